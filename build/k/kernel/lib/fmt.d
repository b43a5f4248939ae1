build/k/kernel/lib/fmt.o: kernel/lib/fmt.c kernel/lib/fmt.h \
 kernel/lib/string.h
kernel/lib/fmt.h:
kernel/lib/string.h:
