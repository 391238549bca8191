/* Stand-ins for a broken libmelspec_cuda.so, each in its own file (the core loads a plugin once
 * per process, so each failure needs its own process and file):
 *   FAKE_MISSING_DEPENDENCY: needs a library the dynamic linker cannot find, as the real plugin
 *     does where libcudart is absent; dlopen fails and the entry is never reached.
 *   FAKE_OTHER_ABI: loads, but says it implements another ABI while claiming success, as a
 *     plugin that ignores the core's number would: the core must refuse it itself. */
#include <stdint.h>

#include "backend_plugin.h"

#if defined(FAKE_MISSING_DEPENDENCY)
int melspec_test_absent_dependency(void);
#endif

__attribute__((visibility("default"))) int melspec_cuda_plugin_entry(
    uint32_t abi_version, const melspec_core_services *services, melspec_backend_plugin *plugin,
    char *message, size_t capacity);

int melspec_cuda_plugin_entry(uint32_t abi_version, const melspec_core_services *services,
                              melspec_backend_plugin *plugin, char *message, size_t capacity)
{
    (void)abi_version;
    (void)services;
    (void)message;
    (void)capacity;
#if defined(FAKE_MISSING_DEPENDENCY)
    plugin->abi_version = (uint32_t)melspec_test_absent_dependency();
#else
    plugin->abi_version = MELSPEC_BACKEND_ABI + 1;
#endif
    return 0;
}
