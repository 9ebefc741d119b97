"""Benchmarks: speed, memory, GUI responsiveness and completion quality, side by side."""
