WRONG_ANSWERS = {
    "q1": ("return x.reshape(len(x), 28, 28).transpose(1, 2)",
           "return x.reshape(len(x), 28, 28)",
           "step t must be column t"),
    "q2": ("higher = (anomalous[:, None] > normal[None, :]).float()  # (A, B) pairs",
           "higher = (anomalous[:, None] < normal[None, :]).float()  # (A, B) pairs",
           "anomaly scores higher than a normal item"),
    "q3": ("recon = torch.sigmoid(model(x.to(device)).float()).cpu()  # (N, T, D)",
           "recon = model(x.to(device)).float().cpu()  # (N, T, D)",
           "apply the sigmoid"),
}
