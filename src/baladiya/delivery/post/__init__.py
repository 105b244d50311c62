"""Delivery by post: the postal-service interface, its sandbox, and our side (shipments,
dispatch, the signed callback, dispatch lists and address labels).

    interface.py  what any postal service adapter provides (dispatch, track, parse a callback)
    sandbox.py    a sandbox post office that behaves like the real one (S10 tracking numbers,
                  signed callbacks sent later through the outbox, sometimes twice or reordered)
    models.py     Shipment, ShipmentEvent (ours) and SandboxParcel (the sandbox's register)
    services.py   dispatch(), handle_postal_event(), receive_callback(), return_center(), lists
    printing.py   the day's address labels and dispatch list as PDFs (Typst, Amiri)
"""
