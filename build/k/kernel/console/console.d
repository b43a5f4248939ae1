build/k/kernel/console/console.o: kernel/console/console.c \
 kernel/console/console.h kernel/console/uart16550.h kernel/lib/fmt.h \
 kernel/lib/spinlock.h
kernel/console/console.h:
kernel/console/uart16550.h:
kernel/lib/fmt.h:
kernel/lib/spinlock.h:
