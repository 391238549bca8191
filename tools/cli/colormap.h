/* A perceptual colormap for spectrogram pictures, computed rather than tabulated. */
#ifndef MELSPEC_CLI_COLORMAP_H
#define MELSPEC_CLI_COLORMAP_H

#include <stdint.h>

/* 256 sRGB colours, index 0 (quietest) to 255 (loudest). See colormap.c for the design. */
typedef struct cli_colormap {
    uint8_t rgb[256][3];
} cli_colormap;

void cli_colormap_init(cli_colormap *map);

#endif
