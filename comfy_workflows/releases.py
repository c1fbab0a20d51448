"""ComfyUI model file names of known releases -> the Hugging Face repo they come from, and family hints."""

from __future__ import annotations

import re

# (pattern on the lower-cased file name, Hugging Face id) — the first match wins
KNOWN_RELEASES = (
    (r"wan2\.1_t2v_1\.3b", "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"),
    (r"wan2\.1_t2v_14b", "Wan-AI/Wan2.1-T2V-14B-Diffusers"),
    (r"wan2\.1_i2v_480p_14b", "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers"),
    (r"wan2\.1_i2v_720p_14b", "Wan-AI/Wan2.1-I2V-14B-720P-Diffusers"),
    (r"wan2\.1_flf2v_720p_14b", "Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers"),
    (r"wan2\.1_vace_1\.3b", "Wan-AI/Wan2.1-VACE-1.3B-diffusers"),
    (r"wan2\.1_vace_14b", "Wan-AI/Wan2.1-VACE-14B-diffusers"),
    (r"wan2\.2_ti2v_5b", "Wan-AI/Wan2.2-TI2V-5B-Diffusers"),
    (r"wan2\.2_t2v_(high|low)_noise_14b", "Wan-AI/Wan2.2-T2V-A14B-Diffusers"),
    (r"wan2\.2_i2v_(high|low)_noise_14b", "Wan-AI/Wan2.2-I2V-A14B-Diffusers"),
    (r"^ltx-video-2b-v0\.9\.5", "Lightricks/LTX-Video-0.9.5"),
    (r"^ltx-video-2b", "Lightricks/LTX-Video"),
    (r"^svd_xt", "stabilityai/stable-video-diffusion-img2vid-xt"),
    (r"^svd\.", "stabilityai/stable-video-diffusion-img2vid"),
    (r"^mm_sd_v15_v2", "guoyww/animatediff-motion-adapter-v1-5-2"),
    (r"^umt5[-_]xxl", "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"),
    (r"^wan_2\.1_vae", "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"),
)
FAMILY_HINTS = (("wan", "wan"), ("ltx", "ltx"), ("cogvideo", "cogvideox"), ("svd", "svd"), ("mm_sd", "animatediff"))
CLIP_TYPES = {"wan": "wan", "ltxv": "ltx"}  # CLIPLoader's type -> family


def release_of(file_name: str) -> str | None:
    base = re.split(r"[\\/]", file_name)[-1].lower()
    for pattern, repo in KNOWN_RELEASES:
        if re.search(pattern, base):
            return repo
    return None


def family_of(file_name: str) -> str | None:
    base = re.split(r"[\\/]", file_name)[-1].lower()
    for word, family in FAMILY_HINTS:
        if word in base:
            return family
    return None
