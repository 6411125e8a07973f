"""Our MR sequence-type vocabulary, aligned with BIDS suffixes, and the contrast-phase dimension.

Local names are the BIDS suffix where BIDS has one (``T1w``, ``FLAIR``, ``dwi``, ``bold``...),
which is also written as a ``skos:notation`` typed ``ic:BIDSSuffix``. Groups follow the BIDS
datatypes (anat, dwi, func, perf, fmap) plus derived maps, angiography, spectroscopy, localizers.
"""

from __future__ import annotations

from ontology import vocab
from ontology._generate.model import Vocabulary

# local name -> (label, parents, BIDS suffix or "", synonyms)
_Row = tuple[str, tuple[str, ...], str, tuple[str, ...]]
_GROUPS: dict[str, _Row] = {
    "anatomical": ("Anatomical MR", (), "", ("structural", "anat")),
    "diffusion": ("Diffusion MR", (), "", ("diffusion imaging",)),
    "functional": ("Functional MR", (), "", ("fMRI", "func")),
    "perfusion": ("Perfusion MR", (), "", ("perfusion imaging", "perf")),
    "fmap": ("Field map", (), "", ("field mapping", "B0 field map")),
    "derived": ("Derived map", (), "", ("derived image", "parametric map")),
    "quantitative": ("Quantitative map", ("derived",), "", ("qMRI", "relaxometry map")),
    "angiography": ("MR angiography", (), "angio", ("MRA", "angio")),
    "spectroscopy": ("MR spectroscopy", (), "", ("MRS", "spectroscopy")),
    "localizer": ("Localizer", (), "", ("scout", "survey", "localiser", "3-plane localizer")),
    "calibration": ("Calibration scan", (), "", ("coil calibration", "reference scan")),
}
_ANATOMICAL: dict[str, _Row] = {
    "T1w": ("T1-weighted", ("anatomical",), "T1w", ("T1", "T1 weighted", "MPRAGE", "SPGR")),
    "T2w": ("T2-weighted", ("anatomical",), "T2w", ("T2", "T2 weighted", "T2 TSE", "T2 FSE")),
    "PDw": ("Proton density weighted", ("anatomical",), "PDw", ("PD", "proton density")),
    "PDT2": ("PD and T2 weighted", ("anatomical",), "PDT2", ("PD/T2", "dual echo")),
    "T2starw": ("T2*-weighted", ("anatomical",), "T2starw", ("T2*", "T2star", "GRE T2*")),
    "FLAIR": (
        "FLAIR",
        ("anatomical",),
        "FLAIR",
        ("T2 FLAIR", "fluid-attenuated inversion recovery"),
    ),
    "SWI": ("Susceptibility-weighted imaging", ("T2starw",), "", ("SWI", "SWAN", "susceptibility")),
    "STIR": ("STIR", ("anatomical",), "", ("short tau inversion recovery", "TIRM")),
    "DIR": ("Double inversion recovery", ("anatomical",), "", ("DIR",)),
    "inplaneT1": ("In-plane T1-weighted", ("T1w",), "inplaneT1", ()),
    "inplaneT2": ("In-plane T2-weighted", ("T2w",), "inplaneT2", ()),
    "UNIT1": ("Uniform T1-weighted (MP2RAGE)", ("T1w",), "UNIT1", ("MP2RAGE UNI",)),
    "cine": ("Cardiac cine", ("anatomical",), "", ("cine", "SSFP cine", "TrueFISP cine")),
    "LGE": ("Late gadolinium enhancement", ("T1w",), "", ("LGE", "delayed enhancement")),
}
_DIFFUSION: dict[str, _Row] = {
    "dwi": ("Diffusion-weighted imaging", ("diffusion",), "dwi", ("DWI", "DTI", "HARDI")),
    "ADC": ("Apparent diffusion coefficient map", ("diffusion", "derived"), "", ("ADC",)),
    "FA": ("Fractional anisotropy map", ("diffusion", "derived"), "", ("FA", "colFA")),
    "MD": ("Mean diffusivity map", ("diffusion", "derived"), "", ("MD",)),
    "TRACE": ("Trace-weighted image", ("diffusion", "derived"), "", ("TRACEW", "isotropic DWI")),
    "sbref": ("Single-band reference", ("functional", "diffusion"), "sbref", ("SBRef",)),
}
_FUNCTIONAL: dict[str, _Row] = {
    "bold": ("BOLD fMRI", ("functional",), "bold", ("BOLD", "resting state", "rs-fMRI")),
    "cbv": ("CBV-weighted fMRI", ("functional",), "cbv", ("VASO",)),
    "asl": ("Arterial spin labelling", ("perfusion",), "asl", ("ASL", "pCASL", "PASL")),
    "m0scan": ("ASL M0 scan", ("perfusion",), "m0scan", ("M0", "M0 scan")),
    "DSC": ("Dynamic susceptibility contrast", ("perfusion",), "", ("DSC", "DSC perfusion")),
    "DCE": ("Dynamic contrast-enhanced", ("perfusion",), "", ("DCE", "DCE perfusion")),
    "CBF": ("Cerebral blood flow map", ("perfusion", "derived"), "", ("CBF", "rCBF")),
    "CBVmap": ("Cerebral blood volume map", ("perfusion", "derived"), "", ("rCBV", "CBV map")),
    "MTT": ("Mean transit time map", ("perfusion", "derived"), "", ("MTT",)),
    "TTP": ("Time to peak map", ("perfusion", "derived"), "", ("TTP",)),
}
_FIELDMAP: dict[str, _Row] = {
    "phasediff": ("Phase-difference field map", ("fmap",), "phasediff", ()),
    "magnitude": ("Field map magnitude", ("fmap",), "magnitude", ("magnitude1", "magnitude2")),
    "fieldmap": ("Field map (Hz)", ("fmap",), "fieldmap", ("B0 map",)),
    "epi": ("Spin-echo EPI field map", ("fmap",), "epi", ("PEpolar", "blip-up blip-down")),
    "TB1map": ("B1 field map", ("fmap",), "TB1map", ("B1 map", "B1+ map")),
}
_MAPS: dict[str, _Row] = {
    "T1map": ("T1 map", ("quantitative",), "T1map", ("T1 mapping", "MOLLI")),
    "T2map": ("T2 map", ("quantitative",), "T2map", ("T2 mapping",)),
    "T2starmap": ("T2* map", ("quantitative",), "T2starmap", ("T2* mapping",)),
    "R1map": ("R1 map", ("quantitative",), "R1map", ()),
    "R2map": ("R2 map", ("quantitative",), "R2map", ()),
    "R2starmap": ("R2* map", ("quantitative",), "R2starmap", ()),
    "PDmap": ("Proton density map", ("quantitative",), "PDmap", ()),
    "MTRmap": ("Magnetization transfer ratio map", ("quantitative",), "MTRmap", ("MTR",)),
    "MTsat": ("Magnetization transfer saturation map", ("quantitative",), "MTsat", ()),
    "T1rho": ("T1rho map", ("quantitative",), "T1rho", ()),
    "MWFmap": ("Myelin water fraction map", ("quantitative",), "MWFmap", ("MWF",)),
    "Chimap": ("Magnetic susceptibility map", ("quantitative",), "Chimap", ("QSM",)),
    "S0map": ("S0 map", ("quantitative",), "S0map", ()),
    "M0map": ("M0 map", ("quantitative",), "M0map", ()),
}
_OTHER: dict[str, _Row] = {
    "TOF": ("Time-of-flight angiography", ("angiography",), "", ("TOF", "TOF MRA")),
    "PCangio": ("Phase-contrast angiography", ("angiography",), "", ("PC MRA", "phase contrast")),
    "CEMRA": ("Contrast-enhanced MR angiography", ("angiography",), "", ("CE-MRA",)),
    "svs": ("Single-voxel spectroscopy", ("spectroscopy",), "svs", ("SVS", "PRESS", "STEAM")),
    "mrsi": ("MR spectroscopic imaging", ("spectroscopy",), "mrsi", ("MRSI", "CSI")),
}
_CONTRAST: dict[str, tuple[str, tuple[str, ...]]] = {
    "pre": ("Pre-contrast", ("native", "nativ", "without contrast", "non-contrast", "plain")),
    "post": (
        "Post-contrast",
        ("contrast-enhanced", "with contrast", "+C", "post Gd", "Gd", "post KM", "mit KM"),
    ),
}


def sequences() -> Vocabulary:
    v = Vocabulary(
        name="mr-sequence",
        scheme=vocab.SCHEME + "mr-sequence",
        title="MR sequence types aligned with BIDS suffixes, and contrast phase",
        version="1",
        source="this project; suffixes from the BIDS specification",
        licence="Apache-2.0 (this project)",
        note="Sequence types for cohort search; contrast phase is its own small scheme.",
    )
    rows = {**_GROUPS, **_ANATOMICAL, **_DIFFUSION, **_FUNCTIONAL, **_FIELDMAP, **_MAPS, **_OTHER}
    for name, (label, parents, suffix, synonyms) in rows.items():
        concept = v.concept(vocab.SEQUENCE + name, label)
        concept.broader.update(vocab.SEQUENCE + p for p in parents)
        if suffix:
            concept.notations.add((suffix, vocab.BIDS_SUFFIX))
        for text in synonyms:
            concept.add_alt(text)
    contrast_scheme = vocab.SCHEME + "contrast-phase"
    v.extra_schemes[contrast_scheme] = "Contrast phase"
    for name, (label, synonyms) in _CONTRAST.items():
        concept = v.concept(vocab.CONTRAST + name, label)
        concept.schemes = {contrast_scheme}
        for text in synonyms:
            concept.add_alt(text)
    return v
