# SPDX-License-Identifier: MIT
# `make bochs`: the project's own Bochs 3.0 (posted interrupts, the IF=0
# erratum fixed) in $(BUILD)/bochs/bin/bochs. tools/bochs/build.sh decides
# whether anything needs doing: it keys the build by the tarballs' sums, the
# patches and its own text, and copies a cached build (outside the tree)
# when there is one, so the rule always runs and is quick when current.
.PHONY: bochs
bochs:
	tools/bochs/build.sh $(BUILD)/bochs
