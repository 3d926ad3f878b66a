"""Benchmarks: ratios side by side in one run, tables printed and saved to bench/results/."""
