"""What each training and completion setting does, in one short clause: the one text
behind the widget's tooltips and the command line's help.

Keyed by :class:`~napari_pixelrnn.core.TrainConfig` and
:class:`~napari_pixelrnn.core.CompletionConfig` field name (tests check that every field
has one). A clause starts in lower case and has no final full stop; each front end
adds its own framing: the widget makes it a sentence, the command line adds the default
and, for a setting of one architecture only, its ``[architecture]`` tag
(:data:`~napari_pixelrnn.core.config.ONLY_FOR`).
"""

from __future__ import annotations

DESCRIPTIONS = {
    "keep_rows": "learn only from the rows above the cut (the top N rows)",
    "architecture": "the PixelRNN paper's Row LSTM (row-lstm) shares small weights between "
                    "all columns and trains on crops of the kept rows: it completes rows it "
                    "has not seen; the lab note's dense model has one weight per column: it "
                    "reproduces the rows it was trained on (the reconstruction experiment)",
    "steps": "optimizer steps at most (the Row LSTM may stop earlier)",
    "lr": "Adam learning rate, cosine-decayed to a tenth",
    "hidden_size": "dense: RNN units, more can memorize more rows; row-lstm: features per "
                   "pixel",
    "num_layers": "stacked recurrent layers",
    "cell": "the recurrent cell that reads the rows",
    "mode": "many-to-many: the RNN reads every row above; many-to-one: a window of the last "
            "'context' rows predicts the next one",
    "context": "many-to-one: how many previous rows the window holds",
    "bidirectional": "read each window of previous rows in both directions (many-to-one "
                     "only)",
    "batch_norm": "causal batch norm after the encoder",
    "dropout": "dense: between stacked layers (needs 2 or more); row-lstm: on the row state",
    "binarize": "binarize the image, by Otsu's threshold or a fixed one: binary images learn "
                "faster and complete sharper; binarizing means binary values",
    "values": "what the model predicts for each value: binary (a Bernoulli; the image is "
              "binarized, by Otsu's threshold unless one is given), continuous (one "
              "discretized logistic), levels (a softmax over K intensities) or mixture (a "
              "mixture of discretized logistics)",
    "levels": "with values 'levels': K, the intensities in the softmax (2 to 256)",
    "components": "with values 'mixture': K, the discretized logistics per value",
    "within_row": "the values of a new row all at once (independent given the rows above), "
                  "or left to right, each also seeing the values to its left, R, G, B "
                  "(autoregressive: sharper rows, slower generation)",
    "granularity": "what one RNN step reads: one row, or one pixel (grayscale images of at "
                   "most 128 x 128 pixels; slow)",
    "kernel": "input-to-state kernel along the row (odd)",
    "prior": "for intensity values, what each value's distribution starts from: a lossless "
             "codec's guess from the neighbours (edge), or the value above (above)",
    "pretrained": "start from weights learned on other photographs (shipped with the "
                  "plugin) and fine-tune them on the kept rows, keeping them where "
                  "fine-tuning does not help the validation rows: on 13 of 15 test images "
                  "the unseen rows took fewer bits than from scratch, but the draws are "
                  "blocky, in colour falsely coloured (docs/benchmarks.md); grayscale or "
                  "RGB, default Row LSTM shape only",
    "crop": "each training sequence is a random crop x crop patch of the kept rows",
    "flip": "also train on mirrored crops; turn it off for images that are not "
            "mirror-symmetric (text, oriented structures)",
    "rotate": "also train on crops turned by 90, 180 and 270 degrees: for textures with no "
              "up and no preferred direction (grass, gravel, most photographs' "
              "backgrounds), not for rows of bricks or text; with dropout 0.3 it coded "
              "the unseen rows of the bundled photographs and textures in fewer bits than "
              "the defaults, though its draws were no better (docs/benchmarks.md)",
    "calibrate": "after training, fit one offset per colour channel (a fraction of an "
                 "intensity level) that drawing adds, so that the model's own continuations "
                 "of its training rows keep their mean intensity: for textures, whose draws "
                 "otherwise brighten or darken row after row; not for photographs, whose "
                 "rows below the cut drift another way than those above (it darkened the "
                 "camera's draws; docs/benchmarks.md)",
    "input_noise": "while training, add Gaussian noise of this standard deviation "
                   "(intensities in [0, 1]) to the rows each row is predicted from, so "
                   "that drawing, which reads the model's own rows, does not amplify its "
                   "errors; 0 = off. At 0.01 it turned several images' streaky draws into "
                   "texture and stopped a runaway, but cost bits/dim on 11 of 15 images "
                   "(up to 0.27) and the mean was as often worse as better "
                   "(docs/benchmarks.md)",
    "own_rows": "while training, read this share of the rows as the model's own draws of "
                "them (each drawn from the true rows above it) instead of the true rows, so "
                "that drawing, which reads the model's own rows, does not take its errors "
                "for structure; 0 = off; each step costs a second pass. At 0.5 the draws "
                "of most images measured became texture instead of streaks, at a cost in "
                "bits/dim on 8 of 15 (up to 0.15), and the mean was as often worse as "
                "better (docs/benchmarks.md)",
    "validation": "share of each image's kept rows (its last ones) held out to validate on: "
                  "training keeps the best weights and stops early when they stop "
                  "improving; 0 = no validation",
    "patience": "validations without improvement before training stops early; 0 = never",
    "weight_decay": "AdamW decoupled weight decay",
    "rgb": "the last axis is colour",
    "seed": "seed for training: the same seed, the same model on the CPU",
    "device": "where torch trains: auto picks a GPU (cuda, mps) if there is one, else the "
              "cpu",
    "batch_size": "slices (Row LSTM: crops) per step; many-to-one takes 4x as many windows",
    "threads": "torch CPU threads while training",
}

COMPLETION_DESCRIPTIONS = {
    "sample": "draw values instead of taking a repeatable best guess (the most probable "
              "value; continuous: the median; mixture: its heaviest component's centre)",
    "temperature": "randomness of draws: 1 is the model's own, 0 none; 0.8 smooths draws "
                   "noisier than the image (their mean was closer on 23 of 30 models "
                   "measured, further by up to 0.7 dB on the rest)",
    "seed": "seed for the draws only: the same seed and settings, the same samples",
    "samples": "draw this many completions in one batch, most probable first, each with "
               "its bits/dim",
    "uncertainty": "how much the samples disagree at each pixel, as a standard deviation "
                   "(std) or an entropy in bits (needs 2 or more samples)",
    "mean": "the posterior mean: the pixel-wise average of the samples, the estimate with "
            "the least expected squared error (needs 2 or more samples)",
}
