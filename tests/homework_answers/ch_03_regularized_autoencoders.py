WRONG_ANSWERS = {
    "q1": ("return h * (h >= kth_largest)", "return h * (h > kth_largest)", "(>=, not >)"),
    "q2": ("return torch.where(hit, white.to(x.dtype), x)",
           "return torch.where(hit, torch.ones_like(x), x)", "half should be set to 0 (pepper)"),
    "q3": ("return (1 - h ** 2) ** 2 @ (weight ** 2).sum(dim=1)",
           "return (h * (1 - h)) ** 2 @ (weight ** 2).sum(dim=1)", "the derivative of tanh"),
    "q4": ("return Vh[:n]", "return Vh[:, :n].T", "the rows of Vh"),
}
