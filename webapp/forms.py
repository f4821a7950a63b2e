"""Forms for categories and reference clips; ownership rules stay in the models, forms only check input."""

from django import forms

from webapp.models import Category, ReferenceClip, Video

PALETTE = ["#1f7a4d", "#2457a6", "#b3261e", "#a86b00", "#7b3fa0", "#00838f", "#5d6b7a", "#c2185b"]


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "description", "colour"]
        widgets = {
            "colour": forms.TextInput(attrs={"type": "color"}),
            "description": forms.Textarea(attrs={"rows": 3, "placeholder": "What belongs in this category?"}),
            "name": forms.TextInput(attrs={"placeholder": "e.g. Soccer match", "autocomplete": "off"}),
        }

    def __init__(self, *args, owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        if owner is not None:
            self.instance.owner = owner
        if not self.instance.pk and not self.is_bound:
            used = Category.objects.filter(owner=self.instance.owner_id).count() if owner else 0
            self.initial.setdefault("colour", PALETTE[used % len(PALETTE)])

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the category a name.")
        if self.instance.name_taken(name):
            raise forms.ValidationError(f"You already have a category called “{name}”.")
        return name

    def clean_colour(self):
        return self.cleaned_data["colour"].lower()


class ClipForm(forms.Form):
    """Adds a reference clip: the whole video, or [start_s, end_s) picked on the player."""

    category = forms.ModelChoiceField(queryset=Category.objects.none(), empty_label=None)
    video = forms.ModelChoiceField(queryset=Video.objects.none(), widget=forms.HiddenInput, required=False)
    start_s = forms.FloatField(required=False, min_value=0, label="Start (s)")
    end_s = forms.FloatField(required=False, min_value=0, label="End (s)")
    is_negative = forms.BooleanField(required=False, label="Negative example (this is NOT the category)")

    def __init__(self, *args, owner, video=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(owner=owner)
        self.fields["video"].queryset = Video.objects.filter(owner=owner).exclude(status=Video.Status.FAILED)
        self.fixed_video = video
        if video is None:
            self.fields["video"].required = True
            self.fields["video"].widget = forms.Select()
            self.fields["video"].empty_label = None

    def clean(self):
        data = super().clean()
        video = self.fixed_video or data.get("video")
        if video is None or "category" not in data:
            return data
        clip = ReferenceClip(
            category=data["category"], video=video, start_s=data.get("start_s"), end_s=data.get("end_s"),
            is_negative=data.get("is_negative", False),
        )  # fmt: skip
        try:
            clip.clean()
        except forms.ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        self.clip = clip
        return data
