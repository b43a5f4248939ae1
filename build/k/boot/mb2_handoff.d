build/k/boot/mb2_handoff.o: boot/mb2_handoff.c boot/mb2_handoff.h \
 boot/handoff.h kernel/lib/str.h kernel/lib/string.h
boot/mb2_handoff.h:
boot/handoff.h:
kernel/lib/str.h:
kernel/lib/string.h:
