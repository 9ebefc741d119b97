import torch

# One torch thread per test process: CI machines have 2 shared cores, and OpenMP threads
# that spin-wait for a busy core made a 5 s training take over 2 minutes under load.
torch.set_num_threads(1)
