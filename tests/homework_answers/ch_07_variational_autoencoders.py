WRONG_ANSWERS = {
    "q1": ("ratio = (var_q + (mu_q - mu_p) ** 2) / var_p",
           "ratio = var_q / var_p + (mu_q - mu_p) ** 2", "divided by the variance of p"),
    "q2": ("loss = reconstruction + beta * kl", "loss = beta * reconstruction + kl",
           "beta multiplies the KL term"),
    "q3": ("return w0[:, None] * z0 + w1[:, None] * z1",
           "return (1 - ts[:, None]) * z0 + ts[:, None] * z1", "did you interpolate linearly"),
}
