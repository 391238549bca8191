/* The figures' module: figure.c and cairo are built as melspec-figures.so and loaded the first
 * time a figure is written. Linked into the command, cairo and the 18 libraries it brings (X11,
 * fontconfig, freetype, pixman, ...) took 1.3 ms of every start (36 libraries to map and
 * relocate instead of 17): time a batch of short clips pays whether it draws or not, and that
 * --jobs cannot share (issue 16). */
#define _DEFAULT_SOURCE /* readlink */
#include "figure_module.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "message.h"

typedef int (*write_figure_fn)(FILE *file, unsigned format, const cli_result *result,
                               const cli_figure *figure, char *why, size_t why_capacity);

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static write_figure_fn write_figure;
static char load_error[512];

/* Where the module is: beside the command (the build tree), else where `cmake --install` puts
 * it relative to the command (MELSPEC_CLI_FIGURES_RELATIVE, e.g. ../lib/melspec/...). */
static void load_module(void)
{
    char executable[PATH_MAX];
    const ssize_t length = readlink("/proc/self/exe", executable, sizeof executable - 1);
    if (length <= 0) {
        snprintf(load_error, sizeof load_error, "cannot find the command's own directory");
        return;
    }
    executable[length] = '\0';
    char *slash = strrchr(executable, '/');
    if (slash != NULL) *slash = '\0';
    const char *const candidates[] = {MELSPEC_CLI_FIGURES_NAME, MELSPEC_CLI_FIGURES_RELATIVE};
    load_error[0] = '\0';
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", executable, candidates[i]);
        void *module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (module == NULL) {
            if (load_error[0] == '\0') snprintf(load_error, sizeof load_error, "%.500s", dlerror());
            continue;
        }
        void *symbol = dlsym(module, "cli_write_figure");
        memcpy(&write_figure, &symbol, sizeof write_figure); /* POSIX's void * to function */
        if (write_figure != NULL) return; /* loaded for the rest of the run */
        snprintf(load_error, sizeof load_error, "%.400s has no cli_write_figure", path);
        dlclose(module);
    }
}

int cli_write_figure_module(FILE *file, unsigned format, const cli_result *result,
                            const cli_figure *figure, char *why, size_t why_capacity)
{
    pthread_once(&load_once, load_module);
    if (write_figure == NULL)
        return cli_fail(why, why_capacity, "figures need %s (cairo), which did not load: %s",
                        MELSPEC_CLI_FIGURES_NAME, load_error);
    return write_figure(file, format, result, figure, why, why_capacity);
}
