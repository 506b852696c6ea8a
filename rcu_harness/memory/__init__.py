"""The simulated heap, KASAN-style poisoning, SimStruct and the maple port."""
