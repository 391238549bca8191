/* librosa's res_type names for libsoxr's qualities (melspec_cqt_res_type values) to libsoxr's
 * recipes: one table for the constant-Q octave halving and the audio loader. */
#ifndef MELSPEC_SOXR_RECIPE_H
#define MELSPEC_SOXR_RECIPE_H

#include <stdint.h>

#include <soxr.h>

#include "melspec.h"

/* libsoxr's recipe for res_type, or -1 where it is none of libsoxr's (polyphase, others). */
static inline long melspec_soxr_recipe(int32_t res_type)
{
    switch (res_type) {
    case MELSPEC_CQT_RES_SOXR_HQ: return SOXR_HQ;
    case MELSPEC_CQT_RES_SOXR_VHQ: return SOXR_VHQ;
    case MELSPEC_CQT_RES_SOXR_MQ: return SOXR_MQ;
    case MELSPEC_CQT_RES_SOXR_LQ: return SOXR_LQ;
    case MELSPEC_CQT_RES_SOXR_QQ: return SOXR_QQ;
    default: return -1;
    }
}

#endif
