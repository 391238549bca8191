/* Figures through the module that draws them (melspec-figures.so: figure.c with cairo), loaded
 * on the first figure: the command starts without cairo. */
#ifndef MELSPEC_CLI_FIGURE_MODULE_H
#define MELSPEC_CLI_FIGURE_MODULE_H

#include "figure.h"

/* cli_write_figure (figure.h) in the module; -1 with a reason in why when the module cannot
 * load. Thread-safe: the first call loads it. */
int cli_write_figure_module(FILE *file, unsigned format, const cli_result *result,
                            const cli_figure *figure, char *why, size_t why_capacity);

#endif
