build/k/kernel/time/clock.o: kernel/time/clock.c kernel/time/clock.h
kernel/time/clock.h:
