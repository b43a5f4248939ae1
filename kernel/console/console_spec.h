/* SPDX-License-Identifier: MIT */
/* Parsing a console specification such as "com1,115200" or "0x3f8,9600". */
#ifndef SIDECORE_CONSOLE_CONSOLE_SPEC_H
#define SIDECORE_CONSOLE_CONSOLE_SPEC_H

#include <stdbool.h>
#include <stdint.h>

/* On success fills port and baud (baud keeps its value when the spec names
 * only the port). False on a bad port name or speed. */
bool console_spec_parse(const char *spec, uint16_t *port, uint32_t *baud);

#endif
