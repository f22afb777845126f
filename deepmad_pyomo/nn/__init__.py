"""The torch side: architectures built as modules (:mod:`.network`), their counts checked by torch's own
counter (:mod:`.verify`), and named models (:mod:`.models`)."""
