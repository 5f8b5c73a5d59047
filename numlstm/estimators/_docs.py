"""Shared numpydoc sections of the LSTM estimators' docstrings."""


def estimator_doc(summary: str, architecture: str, example: str,
                  classifier: bool = False, weights: str = "",
                  return_sequences: bool = True, tbptt: bool = False) -> str:
    """Assemble a class docstring: summary, parameters, attributes, example."""
    attributes = ATTRIBUTES
    if classifier:
        attributes = attributes.replace("    out_activation_ : str\n",
                                        CLASSES_DOC)
    return (summary + "\n    Parameters\n    ----------\n" + architecture
            + (RETURN_SEQUENCES if return_sequences else "")
            + (TBPTT_STEPS if tbptt else "")
            + TRAINING_PARAMETERS + attributes
            + (weights or "\n    Notes\n    -----") + CELL_WEIGHTS + example)


CLASSES_DOC = """    out_activation_ : str
    classes_ : ndarray
        The labels, sorted.
"""

RETURN_SEQUENCES = """    return_sequences : bool, default=False
        False: one output per sequence, from the state after its last real
        step. True: one output per time step.
"""

TBPTT_STEPS = """    tbptt_steps : int or None, default=None
        Truncated backpropagation through time, with
        ``return_sequences=True`` and a stochastic solver: each training
        sequence is cut into consecutive chunks of this many steps, each
        chunk one update, starting from the state the chunk before reached
        (the gradient stops at the chunk's start). Training memory then
        grows with ``tbptt_steps``, not with the sequences' length. None:
        whole sequences.
"""

CELL_WEIGHTS = """
    With ``coupled_gates=True`` each LSTM layer's ``W_ih``, ``W_hh`` and
    ``b`` have 3H rows, gate blocks i, g, o (the forget gate is ``1 - i``).
    With ``peephole=True`` each has ``w_peep`` too: ``(3H,)`` in the order
    i, f, o, or ``(2H,)``, i and o, with coupled gates. With ``proj_size=P``
    each has ``W_hr (P, H)`` (PyTorch's ``weight_hr``) and ``W_hh`` is
    ``(4H, P)``; with ``layer_norm=True`` each has ``ln_ih.gamma (4H,)``,
    ``ln_hh.gamma (4H,)``, ``ln_c.gamma (H,)`` and ``ln_c.beta (H,)``.
"""

TRAINING_PARAMETERS = """\
    solver : {'adam', 'sgd', 'rmsprop', 'lbfgs'}, default='adam'
        'lbfgs' runs ``scipy.optimize.minimize(method='L-BFGS-B')`` on the
        flat weight vector with the exact gradient, on the whole data.
    learning_rate_init : float, default=1e-3
    batch_size : int, default=32
    max_iter : int, default=200
        Epochs (stochastic solvers) or iterations (L-BFGS).
    tol : float, default=1e-4
    n_iter_no_change : int, default=10
        Stop after this many epochs without a loss (or validation score)
        improvement of at least ``tol``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its score stops
        improving and restore the weights of the best epoch.
    validation_fraction : float, default=0.1
    shuffle : bool, default=True
    alpha : float, default=0.0
        L2 penalty ``alpha / (2 n) * ||W||^2`` on the weight matrices (``n``
        the batch's summed sample weights), as in ``MLPRegressor``.
    momentum : float, default=0.9
        For ``solver='sgd'``.
    nesterovs_momentum : bool, default=True
        For ``solver='sgd'``.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        For ``solver='adam'`` (``epsilon`` also for 'rmsprop').
    clip_norm : float or None, default=5.0
        Global gradient-norm clipping; None disables it.
    dropout : float, default=0.0
        Dropout on LSTM outputs between layers and before the dense layer,
        while training only.
    random_state : int, RandomState or None, default=None
        Seeds the initial weights, the shuffling, the validation split and
        dropout: the same seed gives the same model, bit for bit on the CPU.
    verbose : bool, default=False
        Draw a progress bar with the running loss and validation score.
    warm_start : bool, default=False
        Continue from the current weights on the next ``fit``.
    backend : {'auto', 'cpu'}, default='auto'
    dtype : {'float32', 'float64'}, default='float32'
    peephole : bool, default=False
        Peephole connections in every LSTM layer (Gers & Schmidhuber 2000):
        the input and forget gates also see the previous cell state, the
        output gate the new one, each through a diagonal weight.
    coupled_gates : bool, default=False
        Coupled input and forget gates in every LSTM layer (CIFG, Greff et
        al. 2017): the forget gate is one minus the input gate, a quarter
        fewer recurrent weights and products. Combines with ``peephole``.
    recurrent_dropout : float, default=0.0
        Variational dropout on the previous hidden state in every LSTM
        layer's recurrent product, while training only (Gal & Ghahramani
        2016; Keras' ``recurrent_dropout``): one mask per sequence for all
        steps of a forward pass (with ``tbptt_steps``, per chunk), fused in
        the time loop. Needs a stochastic solver.
    zoneout : float, default=0.0
        Zoneout in every LSTM layer (Krueger et al. 2017): while training,
        each unit keeps its previous cell and hidden state at each step
        with this probability; when predicting, every unit keeps this share
        of them (the expectation). Fused in the time loop; not with
        ``peephole``; needs a stochastic solver.
    proj_size : int, default=0
        Project every LSTM layer's hidden state to this many units (LSTMP,
        Sak et al. 2014; PyTorch's ``proj_size``): ``h_t = W_hr (o *
        tanh(c_t))``, so the recurrent product and the layer's output are
        ``proj_size`` wide; smaller than every layer's units; 0 for none.
    layer_norm : bool, default=False
        Layer normalisation in every LSTM layer (Ba et al. 2016, as haste's
        LayerNormLSTM): the input and recurrent products normalised apart,
        each with a gain per gate column, and the cell state before its
        tanh, with a gain and a bias per unit. Combines with ``proj_size``
        and ``recurrent_dropout``; neither of the two with ``peephole``,
        ``coupled_gates`` or ``zoneout``.

"""

ATTRIBUTES = """    Attributes
    ----------
    loss_curve_ : list of float
        Training loss of each epoch (or L-BFGS iteration).
    best_loss_ : float
    validation_scores_ : list of float or None
        With ``early_stopping``, the validation score of each epoch.
    best_validation_score_ : float or None
    n_iter_ : int
        Epochs run (L-BFGS: iterations).
    t_ : int
        Training samples seen.
    n_features_in_ : int
        Features per time step (columns of a 2-D X).
    out_activation_ : str
    backend_ : str
        The backend the model runs on. A model fitted on ``'cuda'`` and
        unpickled where CUDA cannot run predicts on ``'cpu'``, recorded here.
    network_ : numlstm.nn.Sequential
        The fitted network.

"""
