WRONG_ANSWERS = {
    "q1": ("return p_data / (p_data + p_g)", "return p_g / (p_data + p_g)",
           "D* should be near 1 where p_data is large"),
    "q2": ("torch.linspace(0, 1, steps, dtype=z0.dtype)[:, None]",
           "torch.linspace(0, 1, steps + 1, dtype=z0.dtype)[:-1, None]",
           "the last point should be z1"),
    "q3": ("(a.std() - b.std()) ** 2", "(a.var() - b.var()) ** 2",
           "use standard deviations"),
}
