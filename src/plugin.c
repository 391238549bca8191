/*
 * Loads the CUDA backend plugin (libmelspec_cuda.so, src/backend_plugin.h) on first use.
 *
 * Search order, first match wins:
 *   1. $MELSPEC_CUDA_PLUGIN, a path: when set, the only place looked at (falling back elsewhere
 *      would hide the caller's mistake behind another plugin);
 *   2. libmelspec_cuda.so in the directory of the libmelspec.so that holds this code (dladdr),
 *      where the build tree and `make install` put it, so a build never picks another's plugin;
 *   3. libmelspec_cuda.so through dlopen's default search (LD_LIBRARY_PATH, ld.so.cache).
 * A plugin file that exists but does not load (a dependency such as libcudart missing, an
 * unresolved symbol, another ABI) ends the search with that reason: it is the plugin this
 * library was installed with, and the reason is what the user needs to see.
 *
 * Steps 2 and 3 first look for the NVIDIA driver (libcuda.so.1, which CUDA's runtime itself
 * opens to find a device): without it no device can exist, and loading the plugin would map
 * cudart, cuFFT and cuBLAS (hundreds of MB, about 0.1 s of relocation per process) for nothing,
 * a cost every CPU-only process would pay on its first AUTO plan. An explicit
 * $MELSPEC_CUDA_PLUGIN is loaded whatever the driver (the caller asked for that file; the CPU
 * emulation of CUDA, for one, needs no driver).
 *
 * The load happens once per process (pthread_once) and its outcome never changes afterwards:
 * that handle, the plugin's tables and the reason are the library's only process-wide state,
 * written before any caller can read them and read-only from then on. The plugin is never
 * dlclosed: plans of any thread may still run its code, and CUDA's runtime does not support
 * being unloaded and loaded again in one process.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend_plugin.h"
#include "config.h"
#include "cqt_decimator.h"
#include "dsp/cqt.h"

static const melspec_core_services core_services = {
    .plan_size = sizeof(melspec_plan),
    .config_size = sizeof(melspec_config),
    .ops_size = sizeof(melspec_backend_ops),
    .vfail = melspec_vfail,
    .frame_count = melspec_stages_frame_count,
    .cqt_frame_count = melspec_dsp_cqt_frame_count,
    .decimator_fir_measure = melspec_decimator_fir_measure,
    .decimator_fir_free = melspec_decimator_fir_free,
};

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static melspec_backend_plugin cuda_plugin;     /* valid when cuda_loaded */
static int cuda_loaded;
static char cuda_detail[1024];                 /* the path loaded, or why nothing was */

/* Appends to cuda_detail (truncating quietly: the start says the most). */
static void note(const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static void note(const char *format, ...)
{
    const size_t used = strlen(cuda_detail);
    if (used + 1 >= sizeof cuda_detail) return;
    va_list args;
    va_start(args, format);
    vsnprintf(cuda_detail + used, sizeof cuda_detail - used, format, args);
    va_end(args);
}

/* Opens path and asks its entry point for the tables. Returns 1 when loaded; 0 with the reason
 * noted otherwise. */
static int open_plugin(const char *path)
{
    char refusal[512] = "";
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *error = dlerror();
        note("%s", error != NULL ? error : "dlopen failed without a message");
        return 0;
    }
    /* POSIX's way to turn dlsym's void * into a function pointer */
    melspec_plugin_entry entry;
    void *symbol = dlsym(handle, MELSPEC_CUDA_PLUGIN_ENTRY);
    memcpy(&entry, &symbol, sizeof entry);
    if (symbol == NULL) {
        note("%s has no symbol %s: not a melspec backend plugin", path, MELSPEC_CUDA_PLUGIN_ENTRY);
        goto fail;
    }
    melspec_backend_plugin plugin;
    memset(&plugin, 0, sizeof plugin);
    if (entry(MELSPEC_BACKEND_ABI, &core_services, &plugin, refusal, sizeof refusal) != 0) {
        note("%s refused this libmelspec: %s", path,
             refusal[0] != '\0' ? refusal : "(no reason given)");
        goto fail;
    }
    /* a plugin that ignored the number it was given is refused here instead */
    if (plugin.abi_version != MELSPEC_BACKEND_ABI || plugin.ops == NULL ||
        plugin.device_count == NULL) {
        note("%s implements backend ABI %u, this libmelspec needs %u: it comes from another "
             "build of melspec",
             path, (unsigned)plugin.abi_version, (unsigned)MELSPEC_BACKEND_ABI);
        goto fail;
    }
    cuda_plugin = plugin;
    cuda_loaded = 1;
    /* the file the default search found, rather than the bare name asked for */
    Dl_info where;
    const char *loaded = dladdr(symbol, &where) != 0 && where.dli_fname != NULL
                             ? where.dli_fname
                             : path;
    snprintf(cuda_detail, sizeof cuda_detail, "%s", loaded);
    return 1;

fail:
    /* nothing of the plugin ran but its constructors: unloading it is safe here */
    dlclose(handle);
    return 0;
}

static int file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* Whether the NVIDIA driver's library can be loaded; if not, notes dlopen's reason and the
 * plugin that was therefore left alone (NULL: none beside the core). The handle is kept: the
 * plugin's runtime opens the same library, and it is never unloaded. */
static int driver_present(const char *plugin)
{
    if (dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL) != NULL) return 1;
    const char *error = dlerror();
    note("no NVIDIA driver (%s), so the CUDA plugin (%s) was not loaded",
         error != NULL ? error : "libcuda.so.1 cannot be loaded",
         plugin != NULL ? plugin : MELSPEC_CUDA_PLUGIN_FILE " by the default search");
    return 0;
}

/* libmelspec_cuda.so in the directory of the libmelspec.so this code is in (asked with a data
 * address: ISO C has no function-to-object pointer conversion); 0 when that cannot be said. */
static int path_beside_core(char *path, size_t capacity)
{
    Dl_info self;
    if (dladdr(&core_services, &self) == 0 || self.dli_fname == NULL) return 0;
    const char *slash = strrchr(self.dli_fname, '/');
    if (slash == NULL) return 0;
    const int n = snprintf(path, capacity, "%.*s/%s", (int)(slash - self.dli_fname),
                           self.dli_fname, MELSPEC_CUDA_PLUGIN_FILE);
    return n > 0 && (size_t)n < capacity;
}

static void load_cuda_plugin(void)
{
    cuda_detail[0] = '\0';
    const char *requested = getenv("MELSPEC_CUDA_PLUGIN");
    if (requested != NULL && requested[0] != '\0') {
        note("MELSPEC_CUDA_PLUGIN=%s: ", requested);
        open_plugin(requested);
        return;
    }
    char beside[768];
    const int have_beside = path_beside_core(beside, sizeof beside) && file_exists(beside);
    if (!driver_present(have_beside ? beside : NULL)) return;
    if (have_beside) {
        open_plugin(beside);
        return;
    }
    if (path_beside_core(beside, sizeof beside)) note("%s: not found; ", beside);
    note("the default library search for %s: ", MELSPEC_CUDA_PLUGIN_FILE);
    open_plugin(MELSPEC_CUDA_PLUGIN_FILE);
}

const melspec_backend_plugin *melspec_cuda_plugin(const char **detail)
{
    pthread_once(&load_once, load_cuda_plugin);
    if (detail != NULL) *detail = cuda_detail;
    return cuda_loaded ? &cuda_plugin : NULL;
}
