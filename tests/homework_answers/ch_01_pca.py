WRONG_ANSWERS = {
    "q1": ("return int((kept < fraction).sum()) + 1", "return int((kept < fraction).sum())",
           "one too small"),
    "q2": ("return (x - self.bias) @ self.weight", "return x @ self.weight",
           "did you subtract the bias"),
    "q3": ("@ basis.T + pca.mean", "@ basis.T", "did you add the mean back"),
    "q4": ("design = torch.cat([inputs, ones], dim=1)", "design = inputs", "intercept"),
}
