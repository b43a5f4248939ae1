build/k/kernel/console/log.o: kernel/console/log.c kernel/console/log.h \
 kernel/console/console.h kernel/lib/fmt.h kernel/time/clock.h \
 kernel/x86/cpu.h
kernel/console/log.h:
kernel/console/console.h:
kernel/lib/fmt.h:
kernel/time/clock.h:
kernel/x86/cpu.h:
