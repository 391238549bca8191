/*
 * The plugin's side of src/backend_plugin.h: its one exported symbol, and the core services its
 * code calls, defined here (hidden) as calls through the table the core hands over. The rest of
 * src/cuda/ is written as if it were linked into the core; only this file knows it is not.
 */
#include <stdarg.h>
#include <stdio.h>

#include "../backend_plugin.h"
#include "../config.h"
#include "../cqt_decimator.h"
#include "../dsp/cqt.h"
#include "cuda_internal.h"

/* Set by the entry point, under the core's once, before any plan can reach this plugin; never
 * changed afterwards. */
static const melspec_core_services *core;

__attribute__((visibility("default"))) int melspec_cuda_plugin_entry(
    uint32_t abi_version, const melspec_core_services *services, melspec_backend_plugin *plugin,
    char *message, size_t capacity);

int melspec_cuda_plugin_entry(uint32_t abi_version, const melspec_core_services *services,
                              melspec_backend_plugin *plugin, char *message, size_t capacity)
{
    /* the number first: with another one, nothing else here may be read */
    if (abi_version != MELSPEC_BACKEND_ABI) {
        snprintf(message, capacity,
                 "this " MELSPEC_CUDA_PLUGIN_FILE " implements backend ABI %u, the core asks "
                 "for %u: they come from different builds of melspec",
                 (unsigned)MELSPEC_BACKEND_ABI, (unsigned)abi_version);
        return 1;
    }
    if (services->plan_size != sizeof(melspec_plan) ||
        services->config_size != sizeof(melspec_config) ||
        services->ops_size != sizeof(melspec_backend_ops)) {
        snprintf(message, capacity,
                 "backend ABI %u on both sides, but the layouts differ (plan %zu/%zu, config "
                 "%zu/%zu, ops %zu/%zu bytes, core/plugin): a change without an ABI bump",
                 (unsigned)abi_version, services->plan_size, sizeof(melspec_plan),
                 services->config_size, sizeof(melspec_config), services->ops_size,
                 sizeof(melspec_backend_ops));
        return 1;
    }
    core = services;
    plugin->abi_version = MELSPEC_BACKEND_ABI;
    plugin->ops = &melspec_cuda_ops;
    plugin->device_count = melspec_cuda_runtime_device_count;
    return 0;
}

/* ---- the core's services, under the names the backend's code uses ---------------------------- */

melspec_status melspec_fail(melspec_plan *plan, melspec_status status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    core->vfail(plan, status, format, args);
    va_end(args);
    return status;
}

int64_t melspec_stages_frame_count(const melspec_stages *stages, int64_t n_samples)
{
    return core->frame_count(stages, n_samples);
}

int64_t melspec_dsp_cqt_frame_count(const melspec_cqt_design *design, int64_t n_samples)
{
    return core->cqt_frame_count(design, n_samples);
}

int melspec_decimator_fir_measure(int64_t factor, int32_t res_type,
                                  const melspec_allocator *allocator, melspec_decimator_fir *fir)
{
    return core->decimator_fir_measure(factor, res_type, allocator, fir);
}

void melspec_decimator_fir_free(melspec_decimator_fir *fir)
{
    core->decimator_fir_free(fir);
}
