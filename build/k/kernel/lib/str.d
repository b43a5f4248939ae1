build/k/kernel/lib/str.o: kernel/lib/str.c kernel/lib/str.h \
 kernel/lib/fmt.h kernel/lib/string.h
kernel/lib/str.h:
kernel/lib/fmt.h:
kernel/lib/string.h:
