"""Errors that say which part of a scene they concern.

A :class:`FieldError` is a ``ValueError`` whose text is the one-line message a person reads and
whose ``field`` says where the problem is, as a path into :meth:`Experiment.to_dict
<trajectories.experiment.Experiment.to_dict>`, so that a caller places the message by that path
and never by matching its text:

==============================  =============================================================
``surface``                     the surface's name (or a problem of the surface as a whole)
``surface_params.<name>``       one surface parameter (``surface_params.formula``)
``optimizers``                  the list: none enabled, too many
``optimizers[<i>]``             instance ``i`` as a whole (a rule between two of its values)
``optimizers[<i>].<name>``      one hyperparameter or option (``optimizers[1].beta_1``), or
                                the instance's ``kind``, ``name``, ``color`` or ``enabled``
``starts``, ``starts[<j>]``     the start points, or one of them
``steps``, ``noise``, ``seed``, ``stride``, ``tolerance``, ``dtype``
``experiment``                  the description as a whole (not JSON; the total work)
==============================  =============================================================

Sweeps name their own fields (``grid``, ``seeds``, ``trials``).
"""

from __future__ import annotations


class FieldError(ValueError):
    """A problem with one field of a description: ``str(err)`` is the message, ``err.field`` the
    path of the field (see the module's table)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self):  # pickling keeps both parts (the default passes only args)
        return type(self), (self.field, str(self))


def field_of(err: BaseException, default: str = "") -> str:
    """The field an error concerns: its ``field`` if it carries one, else ``default``."""
    return getattr(err, "field", default) if isinstance(err, FieldError) else default
