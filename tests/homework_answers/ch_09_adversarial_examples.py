WRONG_ANSWERS = {
    "q1": ("return (x - eps * grad.sign()).clamp(0, 1).detach()",
           "return (x + eps * grad.sign()).clamp(0, 1).detach()",
           "step down the target's loss"),
    "q2": ("return torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1)",
           "return torch.min(torch.max(x_adv, x - eps), x + eps)",
           "[0, 1]"),
    "q3": ("for e in sorted(eps_grid, reverse=True):",
           "for e in sorted(eps_grid):",
           "the smallest eps"),
}
