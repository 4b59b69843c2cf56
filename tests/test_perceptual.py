"""LPIPS and FID plumbing, with random backbones built here and saved as local weights files (no pretrained
network is on this machine, so the values say nothing about image quality: only that the files are
loaded, the metrics computed, and nothing downloaded)."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from fpdm_video.data.synthetic_dataset import SyntheticDatasetConfig, write_synthetic_dataset
from fpdm_video.errors import InputError
from fpdm_video.evaluate import main
from fpdm_video.metrics import fid_local
from fpdm_video.metrics.fid_local import build_fid, frechet_distance, inception_features
from fpdm_video.metrics.lpips_local import build_lpips, lpips_distances

from factories_offline import no_network  # noqa: F401 (fixture)


pytestmark = pytest.mark.usefixtures("no_network")  # every test here runs with the network refused


@pytest.fixture(scope="module")
def alexnet_file(tmp_path_factory):
    """A random torchvision AlexNet's ``features`` saved as a state dict (the layout of torchvision's file)."""
    torch.manual_seed(0)
    features = torchvision.models.alexnet(weights=None).features
    path = tmp_path_factory.mktemp("weights") / "alexnet-random.pth"
    torch.save({f"features.{k}": v for k, v in features.state_dict().items()}, path)
    return path


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory):
    """A random FID Inception (pytorch-fid's layout, 1008 classes) saved as a state dict."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "inception-random.pth"
    torch.save(fid_local._inception(1008).state_dict(), path)
    return path


def frames(seed: int, n: int = 3, size: int = 48) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_lpips_from_a_local_backbone(alexnet_file):
    model = build_lpips(alexnet_file, "alex")
    a, b = frames(1), frames(2)
    assert lpips_distances(model, a, a) == [0.0, 0.0, 0.0]
    assert all(v > 0 for v in lpips_distances(model, a, b))
    expected = torch.load(alexnet_file, weights_only=True)["features.3.weight"]
    assert torch.equal(getattr(model.net.slice2, "3").weight, expected)  # the file's backbone, not the random one lpips built


def test_fid_from_a_local_inception(inception_file):
    network = build_fid(inception_file)
    assert "FID Inception" in network.variant
    a, b = inception_features(network, frames(1, n=2)), inception_features(network, frames(2, n=2) // 4)
    assert a.shape == (2, 2048)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, b) > 0


@pytest.mark.parametrize("n, m, d", [(50, 60, 16), (5, 7, 16), (300, 200, 64)])
def test_frechet_distance_equals_pytorch_fids(n, m, d):
    from pytorch_fid.fid_score import calculate_frechet_distance

    rng = np.random.default_rng(n)
    a, b = rng.normal(size=(n, d)), rng.normal(size=(m, d)) * 1.3 + 0.2
    with warnings.catch_warnings():  # singular covariances (n < d): scipy warns, and is slow at d = 2048
        warnings.simplefilter("ignore")
        expected = calculate_frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert frechet_distance(a, b) == pytest.approx(float(expected), rel=1e-6)


def test_torchvision_inception_is_the_official_evaluations_variant(tmp_path):
    path = tmp_path / "inception-tv.pth"
    torch.save(torchvision.models.inception_v3(weights=None, init_weights=False).state_dict(), path)  # with AuxLogits
    assert "official FPDM" in build_fid(path).variant


def test_bad_weights_files_are_input_errors(tmp_path, alexnet_file, inception_file):
    text = tmp_path / "notes.pth"
    text.write_text("not weights")
    with pytest.raises(InputError, match="cannot be read as weights"):
        build_lpips(text)
    with pytest.raises(InputError, match="no such file"):
        build_fid(tmp_path / "missing.pth")
    with pytest.raises(InputError, match="lacks features"):
        build_lpips(inception_file)  # another network's file
    with pytest.raises(InputError, match="lacks|shape"):
        build_lpips(alexnet_file, "vgg")  # AlexNet's file named as VGG
    with pytest.raises(InputError, match="not an Inception v3"):
        build_fid(alexnet_file)
    code = tmp_path / "code.pth"
    torch.save({"fc.weight": torch.zeros(1008, 2048), "hook": torch.nn.ReLU()}, code)  # pickles a module: refused
    with pytest.raises(InputError, match="cannot be read as weights"):
        build_fid(code)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """A small ground-truth dataset and a copy with one frame damaged."""
    root = tmp_path_factory.mktemp("ds")
    truth, generated = root / "gt", root / "gen"
    write_synthetic_dataset(truth, SyntheticDatasetConfig(clips=2, frames=2, width=32, height=32, seed=3, split="test"))
    shutil.copytree(truth, generated)
    frame = sorted((generated / "features").rglob("*.png"))[0]
    pixels = np.asarray(Image.open(frame)).copy()
    pixels[:8] = 255 - pixels[:8]
    Image.fromarray(pixels).save(frame)
    return generated, truth


def test_evaluate_computes_both_from_the_files_given(datasets, alexnet_file, inception_file, tmp_path, capsys):
    generated, truth = datasets
    report_path = tmp_path / "r.json"
    assert main(["--dataset", str(generated), "--ground-truth", str(truth), "--lpips-weights", str(alexnet_file),
                 "--fid-weights", str(inception_file), "--json", str(report_path), "--quiet"]) == 0  # fmt: skip
    report = json.loads(report_path.read_text())
    per_clip = sorted(c["lpips"]["max"] for c in report["per_clip"].values())
    assert per_clip[0] == 0.0 and per_clip[1] > 0  # the untouched clip and the damaged one
    assert report["lpips"]["lpips"]["count"] == 4 and report["lpips"]["backbone"].startswith("alex from ")
    assert report["fid"]["fid"] > 0 and report["fid"]["generated_frames"] == report["fid"]["real_frames"] == 4
    out = capsys.readouterr().out
    assert "overall.lpips (mean)" in out and "fid " in out and "not computed" not in out.split("fid", 1)[1].splitlines()[0]


def test_evaluate_refuses_bad_files_in_one_line_and_never_writes_them(datasets, inception_file, tmp_path, capsys):
    generated, truth = datasets
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"\x00garbage")
    args = ["--dataset", str(generated), "--ground-truth", str(truth), "--quiet"]
    assert main(args + ["--fid-weights", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --fid-weights") and err.count("\n") == 1
    before = inception_file.read_bytes()
    assert main(args + ["--fid-weights", str(inception_file), "--json", str(inception_file)]) == 2  # the input as an output
    assert "is the input --fid-weights" in capsys.readouterr().err
    assert inception_file.read_bytes() == before


def test_report_sections_say_what_is_missing(alexnet_file):
    from pipelines.evaluation.perceptual import PerceptualNets, PerceptualWeights, fid_section, load_perceptual, lpips_section

    none = load_perceptual(PerceptualWeights())
    assert lpips_section(none, None)["reason"].startswith("not computed: give --lpips-weights")
    assert fid_section(none, [], [], "x")["reason"].startswith("not computed: give --fid-weights")
    nets = load_perceptual(PerceptualWeights(lpips=alexnet_file))
    assert "needs a ground truth" in lpips_section(nets, None, has_truth=False)["reason"]
    assert lpips_section(nets, [0.5, 0.25])["lpips"]["mean"] == 0.375
    few = PerceptualNets(weights=PerceptualWeights(), fid=object())
    assert "at least 2 frames" in fid_section(few, [np.zeros((1, 2048))], [np.zeros((3, 2048))], "driving video frames")["reason"]
