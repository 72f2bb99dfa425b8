"""Physical building blocks shared by every accelerator model: technology, array, memory, SFU, cost."""
