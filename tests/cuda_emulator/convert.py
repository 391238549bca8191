"""kernels/*.cu -> C++ for the CPU emulation of CUDA (tests/cuda_emulator/README.md).

Rewrites each launch kernel<<<grid, block, shared, stream>>>(args) into
emu_launch(grid, block, shared, stream, kernel, args), or emu_launch_sync(...) for kernels that
call __syncthreads (their threads then run concurrently). Usage: convert.py in.cu out.cpp
"""
import re, sys, pathlib
src = pathlib.Path(sys.argv[1]).read_text()
out = []
i = 0
while True:
    j = src.find('<<<', i)
    if j < 0:
        out.append(src[i:]); break
    k = j
    while k > 0 and (src[k-1].isalnum() or src[k-1] in '_:<>'):
        k -= 1
    callee = src[k:j]
    end = src.find('>>>(', j)
    config = src[j+3:end]
    base = callee.split('::')[-1].split('<')[0]
    m = re.search(r'__global__ void ' + re.escape(base) + r'\(.*?\n}\n', src, re.S)
    sync = m is not None and '__syncthreads' in m.group(0)
    out.append(src[i:k])
    out.append(('emu_launch_sync(' if sync else 'emu_launch(') + config + ', ' + callee + ', ')
    i = end + 4
pathlib.Path(sys.argv[2]).write_text(''.join(out))
