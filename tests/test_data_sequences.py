"""Tests for course_lib.data's sequence loaders (chapter 8): names, surnames, series."""

import numpy as np
import pytest

from course_lib import data


def test_first_names_are_lowercase_letters_unique_and_split_disjointly():
    s = data.load_first_names()
    all_names = np.concatenate([s.X_train, s.X_val, s.X_test])
    assert len(all_names) == len(set(all_names.tolist())) == 5163
    assert all(n.isascii() and n.isalpha() and n.islower() for n in all_names)
    assert {"mary", "james"} <= set(all_names.tolist())
    assert set(np.unique(s.y_train)) == {0, 1} and s.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.load_first_names().X_train, s.X_train)
    assert data.load_first_names(seed=1).X_train.tolist() != s.X_train.tolist()


def test_first_names_sex_label_follows_the_more_frequent_list():
    s = data.load_first_names()
    label = dict(
        zip(
            np.concatenate([s.X_train, s.X_val, s.X_test]).tolist(),
            np.concatenate([s.y_train, s.y_val, s.y_test]).tolist(),
        )
    )
    assert label["mary"] == 0 and label["james"] == 1


def test_surname_languages_drop_ambiguous_names_and_stratify():
    s = data.load_surname_languages()
    assert s.info["classes"] == data.SURNAME_LOCALES
    all_names = np.concatenate([s.X_train, s.X_val, s.X_test]).tolist()
    assert len(all_names) == len(set(all_names))
    assert s.info["dropped_ambiguous"] > 0
    p_train = np.bincount(s.y_train) / len(s.y_train)
    p_test = np.bincount(s.y_test, minlength=len(p_train)) / len(s.y_test)
    np.testing.assert_allclose(p_train, p_test, atol=0.01)


def test_surname_languages_validates_locales():
    with pytest.raises(ValueError, match="at least two"):
        data.load_surname_languages(("en_US",))
    with pytest.raises(ValueError, match="no person provider"):
        data.load_surname_languages(("en_US", "xx_XX"))


def test_series_shapes_and_values():
    t, y = data.load_series("sunspots")
    assert t.shape == y.shape == (309,) and t[0] == 1700 and t[-1] == 2008
    assert np.all(y >= 0)
    t, y = data.load_series("co2")
    assert t.shape == y.shape == (2284,) and np.all(np.isfinite(y)) and np.all(np.diff(t) > 0)
    assert 310 < y.min() < y.max() < 380
    with pytest.raises(ValueError, match="sunspots"):
        data.load_series("nile")
