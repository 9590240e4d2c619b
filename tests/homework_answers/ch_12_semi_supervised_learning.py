WRONG_ANSWERS = {
    "q1": ("return -torch.special.xlogy(probs, probs).sum(1)",
           "return torch.special.xlogy(probs, probs).sum(1)",
           "forget the minus sign"),
    "q2": ("return (z_noisy - mu) * v + mu",
           "return (z_noisy - mu) * v",
           "add mu back"),
    "q3": ("return torch.cat([batch_normalize(part) for part in parts])",
           "return batch_normalize(z)",
           "normalise the two parts separately"),
}
