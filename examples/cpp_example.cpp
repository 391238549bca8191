// cpp_example.cpp — melspec's C API from C++: the plan in a unique_ptr, buffers in vectors.
//
// Computes Whisper-style features (16 kHz, n_fft 400, hop 160, 80 mels, power_to_db) frame-major,
// (n_frames, n_mels), which is what a model consumes, for two clips in one batched call.
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "melspec.h"

namespace {

constexpr double kPi = 3.14159265358979323846;

struct PlanDeleter {
    void operator()(melspec_plan *plan) const { melspec_plan_destroy(plan); }
};
using Plan = std::unique_ptr<melspec_plan, PlanDeleter>;

Plan make_plan(const melspec_config &config)
{
    char why[256];
    melspec_plan *plan = nullptr;
    if (melspec_plan_create(&plan, &config, why, sizeof why) != MELSPEC_OK)
        throw std::runtime_error(std::string("melspec_plan_create: ") + why);
    return Plan(plan);
}

void check(melspec_status status, const Plan &plan)
{
    if (status != MELSPEC_OK)
        throw std::runtime_error(std::string(melspec_status_name(status)) + ": " +
                                 melspec_plan_last_error(plan.get()));
}

}  // namespace

int main()
{
    try {
        melspec_config config;
        melspec_config_init(&config);
        config.sample_rate = 16000;
        config.n_fft = 400;
        config.hop_length = 160;
        config.n_mels = 80;
        config.pad_mode = MELSPEC_PAD_REFLECT;
        config.scaling = MELSPEC_SCALING_POWER_TO_DB;
        config.layout = MELSPEC_LAYOUT_FRAMES_MAJOR;
        config.max_batch = 2;
        Plan plan = make_plan(config);

        // Two clips of 0.5 s, one after the other in one buffer: a 300 Hz and a 3 kHz tone.
        const int64_t n_samples = 8000, n_clips = 2;
        std::vector<float> clips(static_cast<size_t>(n_clips * n_samples));
        for (int64_t i = 0; i < n_samples; i++) {
            const double t = static_cast<double>(i) / config.sample_rate;
            clips[static_cast<size_t>(i)] = static_cast<float>(0.5 * std::sin(2 * kPi * 300 * t));
            clips[static_cast<size_t>(n_samples + i)] =
                static_cast<float>(0.5 * std::sin(2 * kPi * 3000 * t));
        }

        int64_t n_mels = 0, n_frames = 0;
        size_t n_bytes = 0;
        check(melspec_plan_output_shape(plan.get(), n_samples, &n_mels, &n_frames), plan);
        check(melspec_plan_output_bytes(plan.get(), n_clips, n_samples, &n_bytes), plan);
        std::vector<float> features(n_bytes / sizeof(float));
        check(melspec_execute(plan.get(), clips.data(), n_clips, n_samples, features.data(),
                              n_bytes),
              plan);

        std::printf("features (%lld, %lld, %lld) frame-major, dB\n",
                    static_cast<long long>(n_clips), static_cast<long long>(n_frames),
                    static_cast<long long>(n_mels));
        for (int64_t clip = 0; clip < n_clips; clip++) {
            // Frame-major: the middle frame's n_mels values are contiguous.
            const float *frame = features.data() + (clip * n_frames + n_frames / 2) * n_mels;
            int64_t loudest = 0;
            for (int64_t m = 1; m < n_mels; m++)
                if (frame[m] > frame[loudest]) loudest = m;
            std::printf("clip %lld: loudest band %lld at %.1f dB\n", static_cast<long long>(clip),
                        static_cast<long long>(loudest), static_cast<double>(frame[loudest]));
        }
        return 0;
    } catch (const std::exception &error) {
        std::fprintf(stderr, "cpp_example: %s\n", error.what());
        return 1;
    }
}
