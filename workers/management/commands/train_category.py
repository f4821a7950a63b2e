from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from webapp.models import Category, TrainedModel
from webapp.training_forms import TrainForm
from workers.inline import run_inline
from workers.training import train_category_work

OPTION_FIELDS = ("epochs", "latent_dim", "input_height", "input_width", "beta", "fps", "batch_size", "lr",
                 "percentile", "method", "holdout", "fold_epochs")  # fmt: skip


def find_category(name: str, owner: str | None) -> Category:
    categories = Category.objects.filter(name__iexact=name)
    if owner:
        categories = categories.filter(owner__username=owner)
    found = list(categories.select_related("owner")[:2])
    if not found:
        raise CommandError(f"No category called {name!r}" + (f" owned by {owner!r}." if owner else "."))
    if len(found) > 1:
        raise CommandError(f"Several users have a category called {name!r}: pick one with --owner.")
    return found[0]


class Command(BaseCommand):
    help = (
        "Train a new version of a category's model here, with a progress bar (the same code as the worker)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="category name (case-insensitive)")
        parser.add_argument(
            "--owner", help="username of the category's owner, when several users share a name"
        )
        parser.add_argument("--epochs", type=int)
        parser.add_argument("--latent-dim", type=int, dest="latent_dim")
        parser.add_argument("--input-height", type=int, dest="input_height")
        parser.add_argument("--input-width", type=int, dest="input_width")
        parser.add_argument("--beta", type=float)
        parser.add_argument("--fps", type=float, help="sampling rate of the reference clips")
        parser.add_argument("--batch-size", type=int, dest="batch_size")
        parser.add_argument("--lr", type=float)
        parser.add_argument("--percentile", type=float, help="threshold percentile of held-out losses")
        parser.add_argument("--method", choices=["percentile", "f1"])
        parser.add_argument("--holdout", choices=["clips", "blocks"])
        parser.add_argument("--fold-epochs", type=int, dest="fold_epochs")

    def handle(self, *args, **options):
        category = find_category(options["name"], options.get("owner"))
        data = {k: options[k] for k in OPTION_FIELDS if options.get(k) is not None}
        form = TrainForm(data, category=category)
        if not form.is_valid():
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        owner = get_user_model().objects.get(pk=category.owner_id)
        model = TrainedModel.start_training(category, owner, form.config(), enqueue=False)
        bar = tqdm(
            total=100, unit="%", desc="Queued", file=self.stderr._out, disable=options["verbosity"] == 0
        )
        job = run_inline(model.job, train_category_work, bar)
        model.refresh_from_db()
        if job.status != "succeeded":
            raise CommandError(f"Training {model.label} {job.status}: {job.error}")
        active = " (active)" if model.is_active else ""
        self.stdout.write(
            f"Trained {model.label}{active}: threshold {model.threshold:.5g}, {model.n_frames} frames, "
            f"{model.duration_s:.1f} s on {model.device}; weights in {model.directory}"
        )
