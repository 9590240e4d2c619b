WRONG_ANSWERS = {
    # the largest dot product: a longer code wins without being nearer
    "q1": ("    distances = torch.cdist(z, codebook)                  # (N, K)",
           "    distances = -(z @ codebook.T)",
           "not the largest dot product"),
    # counting the codes used, as if each were used equally often
    "q2": ("    return math.exp(-(p * p.log()).sum().item())",
           "    return float(len(p))",
           "count as fewer than used equally"),
    # nats where bits were asked for
    "q3": ("    return -picked.sum(dim=(1, 2)) / math.log(2)",
           "    return -picked.sum(dim=(1, 2))",
           "divide nats by log 2 for bits"),
}
