"""Reference vs typical wrong answers for chapter 13 (see ch_01_pca.py for the format)."""

WRONG_ANSWERS = {
    "q1": ("return h @ psi_weight[0] + psi_bias[0] + (class_vectors[y] * h).sum(1)",
           "return h @ psi_weight[0] + psi_bias[0]",
           "add the class term"),
    "q2": ("asked = torch.bincount(requested, minlength=10).float()  # (10,)",
           "asked = torch.bincount(predicted, minlength=10).float()  # (10,)",
           "divide the hits of digit k"),
    "q3": ("dx, dy = cols - mx[:, None, None], rows - my[:, None, None]",
           "dx, dy = cols, rows",
           "subtract the centroid"),
}
