"""The real config: every option composes, and validate() rejects bad values in one sentence."""

from __future__ import annotations

from pathlib import Path

import hydra
import pytest
import torch
from omegaconf import DictConfig, OmegaConf

from aelab.config import check_group_options, config_dir, families, options, validate
from aelab.errors import ConfigError

CONF = config_dir()
DEFAULT_CHOICES = {"model": "ae", "prior_loss": "none"}
# options that need a value the config leaves as ??? (mandatory)
NEEDS = {
    ("dataset", "folder"): ["dataset.path=x"],
    ("dataset", "tensor"): ["dataset.path=x"],
    # a prior loss needs a family that takes it; 2-D priors need a 2-D latent
    ("prior_loss", "kl"): ["model=vae"],
    ("prior_loss", "jsd"): ["model=aae"],
    ("prior_loss", "wasserstein"): ["model=wae"],
    ("prior", "mixture"): ["model.latent_dim=2"],
    ("prior", "swiss_roll"): ["model.latent_dim=2"],
}


@pytest.fixture(scope="module", autouse=True)
def _hydra():
    with hydra.initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        yield


def compose(overrides: list[str] | None = None) -> DictConfig:
    return hydra.compose("train", overrides=overrides or [], return_hydra_config=False)


def _options() -> list[tuple[str, str]]:
    """(group, option) for every yaml file of every config group (``_split`` is a fragment)."""
    out = []
    for group in sorted(p for p in CONF.iterdir() if p.is_dir()):
        for f in sorted(group.glob("*.yaml")):
            if not f.stem.startswith("_"):
                out.append((group.name, f.stem))
    return out


OPTIONS = _options()


def test_options_were_found():
    groups = {g for g, _ in OPTIONS}
    assert {
        "dataset",
        "model",
        "network",
        "optimizer",
        "scheduler",
        "trainer",
        "logger",
        "callbacks",
        "experiment",
    } <= groups
    assert ("dataset", "digits") in OPTIONS and ("model", "pca") in OPTIONS
    # all but the fragments other options include (dataset/_split, experiment/_tolstikhin2018_mnist)
    assert len(OPTIONS) == len([p for p in CONF.glob("*/*.yaml") if not p.stem.startswith("_")])


def test_config_dir_is_the_checkout():
    assert Path(__file__).resolve().parents[2] / "conf" == CONF
    assert (CONF / "train.yaml").is_file()


def test_defaults_pass():
    cfg = compose()
    validate(cfg, DEFAULT_CHOICES)
    assert cfg.model.latent_dim == 16
    assert cfg.prior.dim == 16  # interpolated from model.latent_dim
    assert cfg.dataset.shuffle_seed == cfg.seed == 0
    assert cfg.dataset._target_ == "aelab.data.DigitsDataModule"
    assert OmegaConf.is_interpolation(cfg.paths, "output_dir")  # left unresolved here


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_option_composes_and_validates(group, option):
    overrides = [f"{group}={option}", *NEEDS.get((group, option), [])]
    cfg = compose(overrides)
    assert isinstance(cfg, DictConfig)
    choices = {
        **DEFAULT_CHOICES,
        **dict(o.split("=") for o in overrides if "." not in o.split("=")[0]),
    }
    if cfg.trainer.accelerator == "gpu" and not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU is visible: use trainer=cpu"):
            validate(cfg, choices)
    else:
        validate(cfg, choices)
    # everything but the run directory (set by Hydra at run time) resolves
    cfg.paths.output_dir = "/tmp/aelab-run"
    resolved = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    assert resolved["paths"]["output_dir"] == "/tmp/aelab-run"


@pytest.mark.parametrize("option", ["folder", "tensor"])
def test_user_data_options_demand_a_path(option):
    cfg = compose([f"dataset={option}"])
    assert OmegaConf.is_missing(cfg.dataset, "path")


def test_experiment_hinton2006():
    cfg = compose(["experiment=hinton2006", "model=pca"])
    validate(cfg, {"model": "pca", "prior_loss": "none", "experiment": "hinton2006"})
    assert cfg.model._target_ == "aelab.models.PCA"
    assert cfg.model.latent_dim == 30 and cfg.prior.dim == 30
    assert cfg.dataset.name == "MNIST"
    assert list(cfg.network.hidden) == [1000, 500, 250]
    assert cfg.callbacks.model_checkpoint.monitor == cfg.optimized_metric == "val/recon_sse"


@pytest.mark.parametrize(
    ("group", "option"),
    [o for o in OPTIONS if o[0] in ("network", "optimizer", "scheduler", "prior", "model")],
)
def test_option_targets_build(group, option):
    """The _target_ of each buildable option exists and accepts the option's keys."""
    cfg = compose([f"{group}={option}", *NEEDS.get((group, option), [])])
    node = cfg[group]
    if "_target_" not in node:  # e.g. scheduler=none
        assert option == "none"
        return
    if group == "network":
        # likelihood=auto is resolved against the data by aelab.assemble.build_model
        nets = hydra.utils.instantiate(node)(
            data_shape=(1, 8, 8), latent_dim=4, n_params=1, likelihood="bernoulli"
        )
        assert nets.decoder(torch.zeros(2, 4)).shape == (2, 1, 8, 8)
    elif group == "optimizer":
        opt = hydra.utils.instantiate(node)([torch.nn.Parameter(torch.zeros(2))])
        assert opt.param_groups[0]["lr"] == node.lr
    elif group == "scheduler":
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
        hydra.utils.instantiate(node)(opt)
    elif group == "prior":
        prior = hydra.utils.instantiate(node)
        assert prior.sample(3).shape == (3, cfg.model.latent_dim)
    elif group == "model":
        from aelab.assemble import build, build_model

        model = build_model(cfg, build(cfg.dataset))  # digits: 1 x 8 x 8
        assert model.latent_dim == cfg.model.latent_dim
        assert type(model) is families()[option]


def test_families_are_read_from_conf():
    fam = families()
    assert set(fam) == {p.stem for p in (CONF / "model").glob("*.yaml")}
    assert fam["ae"].__name__ == "Autoencoder" and fam["pca"].__name__ == "PCA"


BAD = [
    ("model.latent_dim=0", "model.latent_dim", "0"),
    ("model.latent_dim=-3", "model.latent_dim", "-3"),
    ("model.latent_dim=2.5", "model.latent_dim", "2.5"),
    ("model.latent_dim=abc", "model.latent_dim", "abc"),
    ("dataset.batch_size=0", "dataset.batch_size", "0"),
    ("dataset.eval_batch_size=-1", "dataset.eval_batch_size", "-1"),
    ("optimizer.lr=0", "optimizer.lr", "0"),
    ("optimizer.lr=-1", "optimizer.lr", "-1"),
    ("optimizer.lr=-1e-3", "optimizer.lr", "-0.001"),
    ("dataset.val_fraction=1.5", "dataset.val_fraction", "1.5"),
    ("dataset.val_fraction=0", "dataset.val_fraction", "0"),
    ("dataset.test_fraction=1", "dataset.test_fraction", "1"),
    ("trainer.max_epochs=0", "trainer.max_epochs", "0"),
    ("trainer.max_epochs=-2", "trainer.max_epochs", "-2"),
    ("trainer.max_epochs=1.5", "trainer.max_epochs", "1.5"),
    ("seed=-1", "seed", "-1"),
    ("seed=1.5", "seed", "1.5"),
    ("seed=true", "seed", "True"),
]


@pytest.mark.parametrize(("override", "key", "value"), BAD, ids=[b[0] for b in BAD])
def test_bad_values_raise_config_error(override, key, value):
    cfg = compose([override])
    with pytest.raises(ConfigError) as e:
        validate(cfg, DEFAULT_CHOICES)
    msg = str(e.value)
    assert f"{key}=" in msg
    assert value in msg


def test_n_samples_checked_for_toy2d():
    cfg = compose(["dataset=toy2d", "dataset.n_samples=0"])
    with pytest.raises(ConfigError, match="dataset.n_samples=0"):
        validate(cfg, DEFAULT_CHOICES)


@pytest.mark.parametrize(
    "override",
    ["trainer.max_epochs=-1", "seed=null", "seed=0", "optimizer.lr=1", "model.latent_dim=1"],
)
def test_edge_values_pass(override):
    validate(compose([override]), DEFAULT_CHOICES)


def test_prior_dim_must_follow_latent_dim():
    cfg = compose(["prior.dim=5"])
    with pytest.raises(ConfigError, match="prior.dim=5") as e:
        validate(cfg, DEFAULT_CHOICES)
    assert "model.latent_dim=16" in str(e.value)
    validate(compose(["model.latent_dim=5"]), DEFAULT_CHOICES)  # follows by interpolation


@pytest.mark.parametrize(
    ("model", "prior_loss", "instead"),
    [
        ("pca", "kl", "model=vae"),
        ("ae", "jsd", "model=aae or wae"),
        ("vae", "wasserstein", "model=aae or wae"),
        ("aae", "mmd", "model=ae or vae"),
    ],
)
def test_family_rejects_a_prior_loss_it_does_not_take(model, prior_loss, instead):
    cfg = compose([f"model={model}", f"prior_loss={prior_loss}"])
    with pytest.raises(ConfigError) as e:
        validate(cfg, {"model": model, "prior_loss": prior_loss})
    msg = str(e.value)
    assert f"model={model} does not take prior_loss={prior_loss}" in msg
    assert instead in msg  # what would work instead


@pytest.mark.parametrize(
    ("overrides", "sentence"),
    [
        (["model=dae", "prior=gaussian"], "model=dae takes no latent prior"),
        (["model=vae", "prior=swiss_roll", "model.latent_dim=2"], "prior=swiss_roll has no"),
        (["model=vae", "prior=uniform"], "prior=uniform is zero outside its support"),
    ],
)
def test_a_prior_the_family_cannot_use_is_refused_with_what_to_use(overrides, sentence):
    choices = dict(o.split("=", 1) for o in overrides if "." not in o.split("=")[0])
    with pytest.raises(ConfigError) as e:
        validate(compose(overrides), choices)
    assert sentence in str(e.value) and " use " in str(e.value)


@pytest.mark.parametrize(
    ("model", "default"),
    [("ae", None), ("pca", None), ("vae", "KL"), ("aae", "JSD"), ("wae", "Wasserstein")],
)
def test_each_family_brings_its_default_prior_loss(model, default):
    cfg = compose([f"model={model}"])
    validate(cfg, {"model": model})
    assert (cfg.prior_loss._target_.rsplit(".", 1)[1] if cfg.prior_loss else None) == default


def test_non_numeric_fraction_is_a_config_error():
    cfg = compose(["dataset.val_fraction=abc"])
    with pytest.raises(ConfigError, match="dataset.val_fraction='abc'"):
        validate(cfg, DEFAULT_CHOICES)


def test_boolean_max_epochs_is_a_config_error():
    cfg = compose(["trainer.max_epochs=true"])
    with pytest.raises(ConfigError, match="trainer.max_epochs=True"):
        validate(cfg, DEFAULT_CHOICES)


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_non_positive_limit_is_a_config_error(limit):
    cfg = compose([f"dataset.limit={limit}"])
    with pytest.raises(ConfigError, match=f"dataset.limit={limit}"):
        validate(cfg, DEFAULT_CHOICES)


def test_seed_null_trains():
    cfg = compose(["seed=null"])
    validate(cfg, DEFAULT_CHOICES)  # validate accepts it, as its own message suggests
    dm = hydra.utils.instantiate(cfg.dataset)
    x, _ = next(iter(dm.train_dataloader()))
    assert x.shape[1:] == (1, 8, 8)


# --- the schema: types from the targets' signatures, ranges from aelab.schema.RANGES -------
SCHEMA_BAD = [
    (
        ["network.hidden=[a,b]"],
        "network.hidden=['a', 'b'] is not allowed: it must be a list of integers.",
    ),
    (["optimizer.betas=[1]"], "optimizer.betas=[1] is not allowed: it must be a list of numbers."),
    (["dataset.binarize=yes"], "dataset.binarize='yes' is not allowed: it must be true or false."),
    (
        ["trainer.precision=17"],
        "trainer.precision=17 is not allowed: it must be one of 64, 32, 16,",
    ),
    (["+model.foo=1"], "model.foo is not a setting of aelab.models.Autoencoder: use one of"),
    (["callbacks.model_checkpoint.save_top_k=abc"], "callbacks.model_checkpoint.save_top_k='abc'"),
    (
        ["model=wae", "prior_loss.n_critic=0"],
        "prior_loss.n_critic=0 is not allowed: it must be an integer >= 1.",
    ),
    (
        ["model=wae", "prior_loss.clip=-1"],
        "prior_loss.clip=-1 is not allowed: it must be a number > 0.",
    ),
    (
        ["model=dae", "model.mask_prob=1"],
        "model.mask_prob=1 is not allowed: it must be a number >= 0 and < 1.",
    ),
    (["compile=yes"], "compile='yes' is not allowed: it must be true or false."),
    (["trainer.max_epochs=-2"], "it must be an integer >= 1 (or -1)."),
]


@pytest.mark.parametrize(
    ("overrides", "message"), SCHEMA_BAD, ids=[" ".join(b[0]) for b in SCHEMA_BAD]
)
def test_schema_names_key_value_and_what_is_allowed(overrides, message):
    cfg = compose(overrides)
    model = next((o.split("=")[1] for o in overrides if o.startswith("model=")), "ae")
    with pytest.raises(ConfigError) as e:
        validate(cfg, {**DEFAULT_CHOICES, "model": model})
    assert message in str(e.value)


def test_schema_reads_hints_through_kwargs_to_the_base_class():
    from aelab.data import DigitsDataModule
    from aelab.schema import _parameters

    params, open_ended = _parameters(DigitsDataModule)
    assert params["batch_size"] is int and not open_ended  # TensorDataModule's, via **kwargs


def test_trainer_switch_against_callback_is_one_sentence():
    cfg = compose(["trainer.enable_progress_bar=false"])
    with pytest.raises(ConfigError, match="set callbacks.progress_bar=null instead"):
        validate(cfg, DEFAULT_CHOICES)
    validate(
        compose(["trainer.enable_progress_bar=false", "callbacks.progress_bar=null"]),
        DEFAULT_CHOICES,
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is visible")
def test_gpu_accelerator_without_gpu_is_one_sentence():
    with pytest.raises(ConfigError, match="trainer.accelerator=gpu but no CUDA GPU is visible"):
        validate(compose(["trainer=gpu"]), DEFAULT_CHOICES)


def test_divergences_group_switches_and_sizes_the_yardstick():
    from aelab.assemble import build_model
    from aelab.errors import ConfigError

    class Data:  # what build_model reads of a data module
        data_shape, in_unit_interval = (1, 8, 8), True

    model = build_model(compose(["divergences.knn_k=3", "divergences.ot_points=0"]), Data())
    assert (model.divergences.knn_k, model.divergences.ot_points) == (3, 0)
    assert model.codes["val_codes"].max_codes == 2000
    assert build_model(compose(["divergences=none"]), Data()).divergences is None
    with pytest.raises(ConfigError) as raised:  # the constructor's own, not Hydra's wrapper
        build_model(compose(["divergences.c2st_steps=-1"]), Data())
    assert str(raised.value).startswith("divergences.c2st_steps=-1 is not allowed")


@pytest.mark.parametrize(
    "argv, refused",
    [
        (["model=nosuch"], "model=nosuch"),
        (["-m", "model=ae,vaex"], "model=vaex"),  # each choice of a sweep
        (["+experiment=nosuch"], "experiment=nosuch"),
        (["dataset=mnist", "prior=nosuch"], "prior=nosuch"),
    ],
)
def test_an_unknown_group_option_is_one_sentence_naming_the_options(argv, refused):
    with pytest.raises(ConfigError) as error:
        check_group_options(argv)
    group = refused.split("=")[0]
    assert str(error.value) == (
        f"{refused} is not an option of {group}: use one of {', '.join(options(group))}."
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["model=ae", "dataset=mnist", "trainer.max_epochs=2", "-m", "seed=0,1"],
        ["experiment=burda2015_mnist", "~prior", "prior=null", "logger=none"],
        ["hydra/launcher=joblib", "hydra.run.dir=x"],  # Hydra's own groups
        ["dataset=_split"],  # a shared part: validate() says so after composing
        ["-cd", "/elsewhere", "model=mine"],  # another config directory may hold it
        ["hydra.searchpath=[file:///elsewhere]", "model=mine"],
        ["model=glob(*)"],  # Hydra expands it
    ],
)
def test_known_options_and_other_search_paths_pass(argv):
    check_group_options(argv)
