/* A magma-like colormap designed in OKLab (Björn Ottosson's perceptual colour space):
 *
 *   lightness L rises linearly from 0.14 to 0.97, so equal steps in value are equal steps in
 *   perceived brightness (the property that makes viridis and magma readable, also in grey);
 *   hue turns from violet (285 degrees) through magenta, red and orange to yellow (100 degrees);
 *   chroma is a bump, low at the dark and light ends where sRGB has little room.
 *
 * Where a colour falls outside sRGB its chroma is reduced (bisection) at the same lightness and
 * hue, which keeps the lightness ramp exact. */
#include "colormap.h"

#include <math.h>

static double cube(double x) { return x * x * x; }

static void oklab_to_linear_srgb(double L, double a, double b, double rgb[3])
{
    const double l = cube(L + 0.3963377774 * a + 0.2158037573 * b);
    const double m = cube(L - 0.1055613458 * a - 0.0638541728 * b);
    const double s = cube(L - 0.0894841775 * a - 1.2914855480 * b);
    rgb[0] = 4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s;
    rgb[1] = -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s;
    rgb[2] = -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s;
}

static int in_gamut(const double rgb[3])
{
    const double eps = 1e-9;
    for (int i = 0; i < 3; i++)
        if (rgb[i] < -eps || rgb[i] > 1.0 + eps) return 0;
    return 1;
}

static uint8_t encode_srgb(double linear)
{
    linear = linear < 0.0 ? 0.0 : linear > 1.0 ? 1.0 : linear;
    const double v = linear <= 0.0031308 ? 12.92 * linear : 1.055 * pow(linear, 1.0 / 2.4) - 0.055;
    return (uint8_t)lround(v * 255.0);
}

void cli_colormap_init(cli_colormap *map)
{
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < 256; i++) {
        const double t = i / 255.0;
        const double L = 0.14 + 0.83 * t;
        const double hue = (285.0 + 175.0 * t) * pi / 180.0;
        double chroma = 0.05 + 0.15 * sin(pi * t);
        double rgb[3];
        oklab_to_linear_srgb(L, chroma * cos(hue), chroma * sin(hue), rgb);
        if (!in_gamut(rgb)) {
            double low = 0.0, high = chroma;
            for (int step = 0; step < 40; step++) {
                const double mid = 0.5 * (low + high);
                oklab_to_linear_srgb(L, mid * cos(hue), mid * sin(hue), rgb);
                if (in_gamut(rgb)) {
                    low = mid;
                } else {
                    high = mid;
                }
            }
            chroma = low;
            oklab_to_linear_srgb(L, chroma * cos(hue), chroma * sin(hue), rgb);
        }
        for (int c = 0; c < 3; c++) map->rgb[i][c] = encode_srgb(rgb[c]);
    }
}
