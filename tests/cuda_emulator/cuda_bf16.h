// Stands in for the CUDA header of this name when kernels/ is compiled for the CPU emulation.
#pragma once
#include "emu_device.h"
