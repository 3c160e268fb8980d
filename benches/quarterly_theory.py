"""Normal-theory reference for the quarterly follow-up's false alarms and
detection (issue #20's notes), no bomon code involved: independent standard
normal quarter z-scores, a rolling window of B baseline quarters (whose mean
is the in-control level, so its estimation error is shared by the monitored
quarters) and W = 8 monitored quarters, the standardised CUSUM (k, h) over the
monitored quarters plus a one-quarter alarm at z > alarm.

Prints, per setting: new flags (onsets) per quarter and per 10
department-years at 32 series-quarters a department-year (8 indicators x 4
quarters), and the median quarters to detection of sustained 2- and 3-SE
shifts with the share within 3 quarters. Also the chance that the CUSUM is
above h = 2 after 8 quarters (the Monte Carlo quoted in the test of
bomon_stats::cusum::window_flag_probability).

Run: python3 benches/quarterly_theory.py (standard library only; about a
minute). Seeds are fixed.
"""
import math
import random


def cusum(zs, k):
    s = 0.0
    for x in zs:
        s = max(0.0, s + x - k)
    return s


def window(z, t, B, W):
    b = sum(z[t - W - B + 1:t - W + 1]) / B
    sd = math.sqrt(1 + 1 / B)
    return [(x - b) / sd for x in z[t - W + 1:t + 1]]


def onsets(h, alarm, k=1.0, B=12, W=8, T=60000):
    z = [random.gauss(0, 1) for _ in range(T)]
    on, prev, n = 0, False, 0
    for t in range(B + W, T):
        zz = window(z, t, B, W)
        f = cusum(zz, k) > h or zz[-1] > alarm
        on += f and not prev
        prev, n = f, n + 1
    return on / n


def delay(h, alarm, shift, k=1.0, B=12, W=8, n=6000):
    ds = []
    for _ in range(n):
        z = [random.gauss(0, 1) for _ in range(B + W)] + [random.gauss(shift, 1) for _ in range(8)]
        d = 99
        for q in range(1, 9):
            zz = window(z, B + W + q - 1, B, W)
            if cusum(zz, k) > h or zz[-1] > alarm:
                d = q
                break
        ds.append(d)
    ds.sort()
    return ds[len(ds) // 2], sum(d <= 3 for d in ds) / n


if __name__ == "__main__":
    random.seed(2)
    print("B 12, W 8; onsets per quarter, per 10 department-years (32 series-quarters); 2 SE and 3 SE: median quarters, share within 3")
    for h, a in [(2.0, 3.0), (2.5, 3.0), (2.5, 3.5), (3.0, 3.5)]:
        o = onsets(h, a)
        d2, d3 = delay(h, a, 2.0), delay(h, a, 3.0)
        print(f"  h {h} alarm {a}: {o:.5f} per quarter, {o * 320:.2f} per 10 department-years; 2 SE {d2}; 3 SE {d3}")
    random.seed(5)
    n = 400000
    c = sum(cusum([random.gauss(0, 1) for _ in range(8)], 1.0) > 2.0 for _ in range(n))
    print(f"P(CUSUM k 1 above h 2 after 8 standard normal points) = {c / n:.6f} ({n} windows)")
