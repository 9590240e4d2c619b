WRONG_ANSWERS = {
    "q1": ("torch.softmax(-squared / (2 * sigma ** 2), dim=1)",
           "torch.softmax(-squared / (2 * sigma ** 2), dim=0)", "(softmax over dim=1)"),
    "q2": ("return Vh[:, :tangent_dim].transpose(1, 2)", "return Vh[:, :, :tangent_dim]",
           "the rows of Vh"),
    "q3": ("i = torch.where((f[:-1] > 0) & (f[1:] <= 0))[0]",
           "i = torch.where((f[:-1] < 0) & (f[1:] >= 0))[0]",
           "changes from positive (pushed right) to negative"),
}
