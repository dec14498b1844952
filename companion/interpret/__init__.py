"""Looking inside a CNN: saliency, Grad-CAM, occlusion sensitivity and the randomisation check.

Every method takes the model as a function from float32 images ``(N, H, W, C)`` to logits
``(N, K)`` (an NNX model is such a function) and returns one ``(N, H, W)`` map per image.

Example:
    >>> import jax.numpy as jnp
    >>> from companion import interpret
    >>> model = lambda x: x.reshape(x.shape[0], -1)[:, :10]
    >>> interpret.saliency_map(model, jnp.ones((1, 28, 28, 1)), jnp.array([3])).shape
    (1, 28, 28)
"""

from companion.interpret.gradcam import grad_cam, seed_cnn_stages
from companion.interpret.occlusion import occlusion_sensitivity
from companion.interpret.saliency import saliency_map
from companion.interpret.sanity import randomize_parameters, rank_correlation

__all__ = [
    "grad_cam",
    "occlusion_sensitivity",
    "randomize_parameters",
    "rank_correlation",
    "saliency_map",
    "seed_cnn_stages",
]
