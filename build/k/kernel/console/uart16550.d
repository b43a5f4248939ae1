build/k/kernel/console/uart16550.o: kernel/console/uart16550.c \
 kernel/console/uart16550.h kernel/x86/cpu.h
kernel/console/uart16550.h:
kernel/x86/cpu.h:
