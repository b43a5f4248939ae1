build/k/kernel/main.o: kernel/main.c boot/handoff.h boot/mb2_handoff.h \
 kernel/console/console.h kernel/console/log.h kernel/console/uart16550.h \
 kernel/lib/string.h
boot/handoff.h:
boot/mb2_handoff.h:
kernel/console/console.h:
kernel/console/log.h:
kernel/console/uart16550.h:
kernel/lib/string.h:
