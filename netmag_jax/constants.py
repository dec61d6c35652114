"""Physical constants (CODATA 2018, SI) and unit helpers.

All library functions take and return SI units (T, K, s, m, J, A/m) unless a docstring says
otherwise; magnetic moments per ion are in Bohr magnetons where that is the field's habit.
The helpers here convert the units met in the laboratory (meV, kelvin as an energy, oersted,
emu, cgs molar susceptibility) to and from SI. They are plain arithmetic and work on Python
floats, NumPy arrays and JAX arrays alike.
"""

import math

# --- CODATA 2018 (exact values are exact since the 2019 SI redefinition) --------------------
#: Bohr magneton mu_B [J/T]
MU_B = 9.2740100783e-24
#: Nuclear magneton mu_N [J/T]
MU_N = 5.0507837461e-27
#: Boltzmann constant k_B [J/K] (exact)
K_B = 1.380649e-23
#: Vacuum permeability mu_0 [T m / A] (= N/A^2)
MU_0 = 1.25663706212e-6
#: Reduced Planck constant hbar [J s]
HBAR = 1.054571817e-34
#: Planck constant h [J s] (exact)
H_PLANCK = 6.62607015e-34
#: Elementary charge e [C] (exact)
E_CHARGE = 1.602176634e-19
#: Electron mass m_e [kg]
M_E = 9.1093837015e-31
#: Proton mass m_p [kg]
M_P = 1.67262192369e-27
#: Electron g-factor magnitude |g_e| (dimensionless)
G_E = 2.00231930436256
#: Electron gyromagnetic ratio |gamma_e| = g_e mu_B / hbar [rad s^-1 T^-1] (free electron)
GAMMA_E = G_E * MU_B / HBAR
#: Proton gyromagnetic ratio gamma_p [rad s^-1 T^-1] (free proton, unshielded)
GAMMA_1H = 2.6752218744e8
#: Proton gyromagnetic ratio over 2 pi [Hz/T]
GAMMA_1H_HZ = GAMMA_1H / (2.0 * math.pi)
#: Proton magnetic moment mu_p [J/T]
MU_P = 1.41060679736e-26
#: Avogadro constant N_A [1/mol] (exact)
N_A = 6.02214076e23
#: Electron-volt [J] (exact)
EV = E_CHARGE
#: milli-electron-volt [J]
MEV = 1e-3 * E_CHARGE

__all__ = [
    "MU_B",
    "MU_N",
    "K_B",
    "MU_0",
    "HBAR",
    "H_PLANCK",
    "E_CHARGE",
    "M_E",
    "M_P",
    "G_E",
    "GAMMA_E",
    "GAMMA_1H",
    "GAMMA_1H_HZ",
    "MU_P",
    "N_A",
    "EV",
    "MEV",
    "meV_to_J",
    "J_to_meV",
    "K_to_J",
    "J_to_K",
    "meV_to_K",
    "K_to_meV",
    "Oe_to_T",
    "T_to_Oe",
    "emu_to_Am2",
    "Am2_to_emu",
    "muB_to_Am2",
    "Am2_to_muB",
    "chi_cgs_molar_to_si",
    "chi_si_molar_to_cgs",
    "emu_per_mol_to_muB_per_ion",
]


# --- energy ---------------------------------------------------------------------------------
def meV_to_J(e):
    """Energy in meV -> joules."""
    return e * MEV


def J_to_meV(e):
    """Energy in joules -> meV."""
    return e / MEV


def K_to_J(t):
    """Energy expressed as a temperature (k_B T, in kelvin) -> joules."""
    return t * K_B


def J_to_K(e):
    """Energy in joules -> kelvin (E / k_B)."""
    return e / K_B


def meV_to_K(e):
    """Energy in meV -> kelvin (1 meV = 11.6045 K)."""
    return e * MEV / K_B


def K_to_meV(t):
    """Energy in kelvin -> meV."""
    return t * K_B / MEV


# --- field ----------------------------------------------------------------------------------
def Oe_to_T(h):
    """Field in oersted -> tesla of mu_0 H (1 Oe <-> 1e-4 T in vacuum)."""
    return h * 1e-4


def T_to_Oe(b):
    """mu_0 H in tesla -> oersted."""
    return b * 1e4


# --- moment ---------------------------------------------------------------------------------
def emu_to_Am2(m):
    """Magnetic moment in emu (erg/G) -> A m^2 (1 emu = 1e-3 A m^2)."""
    return m * 1e-3


def Am2_to_emu(m):
    """Magnetic moment in A m^2 -> emu."""
    return m * 1e3


def muB_to_Am2(m):
    """Magnetic moment in Bohr magnetons -> A m^2 (= J/T)."""
    return m * MU_B


def Am2_to_muB(m):
    """Magnetic moment in A m^2 -> Bohr magnetons."""
    return m / MU_B


# --- susceptibility -------------------------------------------------------------------------
def chi_cgs_molar_to_si(chi):
    """Molar susceptibility in emu/mol (cgs) -> m^3/mol (SI): chi_SI = 4 pi 1e-6 chi_cgs."""
    return chi * 4.0 * math.pi * 1e-6


def chi_si_molar_to_cgs(chi):
    """Molar susceptibility in m^3/mol (SI) -> emu/mol (cgs)."""
    return chi / (4.0 * math.pi * 1e-6)


def emu_per_mol_to_muB_per_ion(m):
    """Molar moment in emu/mol -> Bohr magnetons per ion (1 mu_B/ion = 5585 emu/mol)."""
    return m * 1e-3 / (N_A * MU_B)


# --- magnetometry in cgs ------------------------------------------------------------------------
#: Curie constant per mole and per mu_eff^2 in cgs: N_A mu_B^2 / (3 k_B) = 0.12505 emu K/mol
#: (mu_B = 1e3 MU_B erg/G, k_B = 1e7 K_B erg/K), so C = 0.12505 mu_eff^2 emu K/mol and
#: mu_eff = sqrt(C / CURIE_CGS_PER_MUEFF2) Bohr magnetons.
CURIE_CGS_PER_MUEFF2 = N_A * (MU_B * 1e3) ** 2 / (3.0 * K_B * 1e7)

__all__ += ["CURIE_CGS_PER_MUEFF2"]
