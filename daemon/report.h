/*
 * report: a plan as text for people (dsyncd diff, and later dsyncctl).
 */
#ifndef DSYNC_REPORT_H
#define DSYNC_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "plan.h"

/* Write the plan; detail adds the values (--pretty-diff). */
void report_plan(FILE *f, const struct plan *p, bool detail);

#endif
