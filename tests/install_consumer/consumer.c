#include <stdio.h>

#include <melspec.h>

int main(void)
{
    melspec_config config;
    melspec_config_init(&config);
    melspec_plan *plan = NULL;
    if (melspec_plan_create(&plan, &config, NULL, 0) != MELSPEC_OK) return 1;
    int64_t n_bins, n_frames;
    const melspec_status status = melspec_plan_output_shape(plan, 22050, &n_bins, &n_frames);
    melspec_plan_destroy(plan);
    printf("melspec %s: %lld x %lld\n", melspec_version_string(), (long long)n_bins,
           (long long)n_frames);
    return status == MELSPEC_OK && n_bins == 128 && n_frames == 44 ? 0 : 1;
}
