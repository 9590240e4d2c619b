WRONG_ANSWERS = {
    # the scale of the kept entries counted in the log-determinant
    "q1": ("    s = s * (1 - mask)                              # kept entries: scale e^0",
           "    s = s",
           "the kept entries pass unchanged"),
    "q2": ("    logdet = math.log(1 - 2 * alpha) - torch.log(p) - torch.log1p(-p)",
           "    logdet = - torch.log(p) - torch.log1p(-p)",
           "scales each entry by (1 - 2 alpha) too"),
    # the density of y in the unit cube, without the levels' bins
    "q3": ("        nats.append(-(standard_normal_log_prob(z) + logdet)\n"
           "                    + x[0].numel() * math.log(256))",
           "        nats.append(-(standard_normal_log_prob(z) + logdet))",
           "add D log 256"),
}
