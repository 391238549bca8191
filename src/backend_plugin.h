/*
 * The boundary between libmelspec.so (the core) and a backend plugin (libmelspec_cuda.so), the
 * shape of ggml's dynamic backends and ONNX Runtime's execution providers: the core never links
 * a GPU runtime; it dlopens the plugin on the first plan that wants it (src/plugin.c) and calls
 * its one exported entry point. Not installed.
 *
 * What crosses the boundary, in both directions, is a table of function pointers:
 *   - the plugin hands the core its ops table (plan.h) and a device count;
 *   - the core hands the plugin the few core services its code calls (messages, frame counts,
 *     the CQT frame rule, the measured soxr decimators).
 * The stage parameters themselves (src/stages.h) travel inside the plan, decided once by the
 * core. The services are handed over rather than linked into the plugin a second time so that every
 * rule exists once, in the core that made the plan: a plugin cannot disagree with its core about
 * how many frames a signal has, and it needs neither libsoxr nor the CPU FFT. (The alternative,
 * a static library of the shared code linked into both objects, would put two copies of those
 * rules in every process.) The plugin names them as the core does (melspec_fail,
 * melspec_stages_frame_count, ...): src/cuda/cuda_plugin.c defines them, hidden, as calls through the table.
 *
 * Both sides also share the layouts of plan.h (struct melspec_plan, melspec_config, the ops
 * table) and of the structs below: MELSPEC_BACKEND_ABI (plan.h) versions all of it.
 */
#ifndef MELSPEC_SRC_BACKEND_PLUGIN_H
#define MELSPEC_SRC_BACKEND_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "cqt_decimator.h"
#include "plan.h"

struct melspec_cqt_design;

/* What the core lends a plugin. Valid for the life of the process (the core is never unloaded
 * before its plugin: the plugin is never dlclosed). */
typedef struct melspec_core_services {
    /* sizes the plugin compares with its own, so that a layout change without an ABI bump is
     * still refused (a safety net, not a replacement for the bump) */
    size_t plan_size;
    size_t config_size;
    size_t ops_size;
    melspec_status (*vfail)(melspec_plan *plan, melspec_status status, const char *format,
                            va_list args);
    int64_t (*frame_count)(const melspec_stages *stages, int64_t n_samples);
    int64_t (*cqt_frame_count)(const struct melspec_cqt_design *design, int64_t n_samples);
    int (*decimator_fir_measure)(int64_t factor, int32_t res_type,
                                 const melspec_allocator *allocator, melspec_decimator_fir *fir);
    void (*decimator_fir_free)(melspec_decimator_fir *fir);
} melspec_core_services;

/* What a plugin gives the core. */
typedef struct melspec_backend_plugin {
    uint32_t abi_version; /* MELSPEC_BACKEND_ABI of the build that made the plugin */
    const melspec_backend_ops *ops; /* every plan kind (the ops look at plan->stages.kind) */
    /* Usable devices; when 0, writes why (the driver's answer) into message. Never fails. */
    int (*device_count)(char *message, size_t capacity);
} melspec_backend_plugin;

/* The entry point's name and type. This signature is frozen for every ABI number, so that any
 * two builds can at least tell each other they differ: the plugin first compares abi_version with
 * its own and, when they differ, writes why into message, touches nothing else and returns
 * nonzero. Otherwise it keeps `core` (for its whole life), fills *plugin and returns 0. Called
 * once per process, by the core's load (src/plugin.c). */
#define MELSPEC_CUDA_PLUGIN_ENTRY "melspec_cuda_plugin_entry"
#define MELSPEC_CUDA_PLUGIN_FILE "libmelspec_cuda.so"
typedef int (*melspec_plugin_entry)(uint32_t abi_version, const melspec_core_services *core,
                                    melspec_backend_plugin *plugin, char *message,
                                    size_t capacity);

/* ---- the core's loader (src/plugin.c) ------------------------------------------------------ */

/* The CUDA plugin, loaded at the first call (once per process, thread-safe), or NULL when it
 * could not be loaded; then *reason (when not NULL) says why: the paths tried, dlerror()'s text,
 * a missing entry point or a refused ABI. The reason is static and never changes. */
const melspec_backend_plugin *melspec_cuda_plugin(const char **reason);

#endif
