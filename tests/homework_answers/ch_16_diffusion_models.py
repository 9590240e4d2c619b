WRONG_ANSWERS = {
    # the forward step's variance, as if x0 told nothing about x_{t-1}
    "q1": ("    variance = beta * (1 - alpha_bar_prev) / (1 - alpha_bar)",
           "    variance = beta",
           "knowing x0 narrows the step"),
    # interpolating between the two predictions instead of moving past the conditional one
    "q2": ("    return (1 + w) * conditional - w * unconditional",
           "    return (1 - w) * conditional + w * unconditional",
           "away from the unconditional"),
    # alpha_bar where its square root belongs
    "q3": ("    return (x_t - math.sqrt(1 - alpha_bar) * eps) / math.sqrt(alpha_bar)",
           "    return (x_t - (1 - alpha_bar) * eps) / alpha_bar",
           "sqrt(alpha_bar)"),
}
